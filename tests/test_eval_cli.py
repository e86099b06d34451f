"""uoisc-eval end to end: one system, two images, one Es/N0, through the GNU Radio flowgraph."""

import json
import os

import pytest

from gnuradio.uoisc.apps import eval_store, evaluate, semantic_link
from uoisc_runtime import SemanticCodec

from eval_helpers import assert_rerun_loads_stored_points

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUDGE = os.path.join(ROOT, "models", "uoisc-tiny-judge")
BUNDLE = os.path.join(ROOT, "models", "uoisc-tiny-uoisc")


def cli(out_dir, *extra):
    return ["--systems", "uoisc", "-n", "2", "--esno-db", "20", "--fading", "awgn", "--out", str(out_dir),
            "--models-root", ROOT, "--judge", JUDGE, "--log-level", "error", *extra]


def test_cli_runs_a_point_through_the_flowgraph_and_resumes(tmp_path, capsys):
    """The CLI sends 2 pairs through the semantic link, stores the point, writes results.json
    (valid schema, the bundle's payload and the PHY's burst length for it), tables and plots;
    every image is received or counted lost; a rerun loads the point instead of sending again."""
    assert evaluate.main(cli(tmp_path)) == 0
    results = json.loads((tmp_path / eval_store.RESULTS_FILE).read_text())
    eval_store.check_results(results)
    (point,) = results["points"]
    assert point["config"]["system"] == "uoisc" and point["config"]["esno_db"] == 20.0
    assert point["metrics"]["n_pairs"] == 2
    assert point["link"]["n_received"] + point["link"]["n_lost"] == 2
    assert point["link"]["n_lost"] == point["metrics"]["n_lost"]
    payload = SemanticCodec.from_path(BUNDLE, providers=["CPUExecutionProvider"]).payload_bytes
    assert point["link"]["payload_bytes"] == payload
    assert point["link"]["channel_symbols_per_image"] == semantic_link.burst_symbols(payload)
    for name in ("tables.md", "amr_vs_esno.png", "relevance_vs_esno.png", "examples_awgn_test_zeroshot.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert_rerun_loads_stored_points(evaluate.main, cli(tmp_path), eval_store.point_path(tmp_path, point["config"]), 1,
                                     capsys)


def test_system_with_a_code_suffix_is_sent_with_that_code(tmp_path):
    """"jpeg2000@100:n1800_k902x2" goes through the flowgraph with the x2 code: its point records
    that code, and its burst is the x2 burst of its payload, while the plain system of the same
    sweep keeps the sweep's code."""
    argv = cli(tmp_path, "--systems", "jpeg2000@100", "jpeg2000@100:n1800_k902x2")
    assert evaluate.main(argv) == 0
    points = json.loads((tmp_path / eval_store.RESULTS_FILE).read_text())["points"]
    by_system = {p["config"]["system"]: p for p in points}
    assert by_system["jpeg2000@100"]["config"]["code"] == "n1800_k902"
    repeated = by_system["jpeg2000@100:n1800_k902x2"]
    assert repeated["config"]["code"] == "n1800_k902x2"
    payload = repeated["link"]["payload_bytes"]
    assert repeated["link"]["channel_symbols_per_image"] == semantic_link.burst_symbols(payload, "n1800_k902x2")
    assert repeated["link"]["n_received"] + repeated["link"]["n_lost"] == 2


@pytest.mark.parametrize("bad", [["--systems", "jpeg2000@zero"], ["--systems", "nonsense"], ["-n", "0"],
                                 ["--systems", "uoisc", "uoisc"], ["--systems", "uoisc:n1800_k902x9"]])
def test_cli_refuses_bad_arguments(tmp_path, bad):
    """An unknown system, a JPEG2000 budget that is not a byte count, a system listed twice,
    an unknown code after ":" or -n 0 exit with a usage error (status 2) before anything runs."""
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["--out", str(tmp_path), "--models-root", ROOT, *bad])
    assert exit_info.value.code == 2
    assert not (tmp_path / eval_store.POINTS_DIR).exists()
