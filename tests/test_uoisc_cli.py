"""The ``uoisc`` command line (demo and send) on the shipped tiny bundle and judge."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from gnuradio.uoisc.apps import uoisc_cli
from uoisc_runtime.bundle import read_spec
from uoisc_runtime.frame import HEADER_BYTES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "uoisc-tiny-uoisc")
JUDGE = os.path.join(ROOT, "models", "uoisc-tiny-judge")
CLEAN = ["-e", "30", "-f", "awgn", "--log-level", "warn"]


def read_report(out_dir):
    with open(os.path.join(out_dir, "report.json"), encoding="utf-8") as f:
        return json.load(f)


def test_demo_writes_report_figure_and_judge_answers(tmp_path, capsys):
    """`uoisc demo -n 2` on a clean channel: both scenes arrive intact, the report has the
    judge's answers on originals and reconstructions (the match rate is their agreement),
    the link figures (bits, symbols, codewords) and the side-by-side figure exists."""
    out = tmp_path / "demo"
    assert uoisc_cli.main(["demo", "-n", "2", "-m", MODEL, "--judge", JUDGE, "-o", str(out)] + CLEAN) == 0
    report = read_report(out)
    summary = report["summary"]
    assert (summary["n_received"], summary["n_lost"], summary["codewords_failed"]) == (2, 0, 0)
    assert summary["bits_per_image"] == 8 * (HEADER_BYTES + read_spec(MODEL)["bits_per_image"] // 8)
    assert summary["channel_symbols_per_image"] > summary["bits_per_image"] // 3
    images = report["images"]
    assert len(images) == 2 and all(r["answer_original"] and r["answer_reconstruction"] for r in images)
    matches = [r["answer_original"] == r["answer_reconstruction"] for r in images]
    assert summary["answer_match_rate"] == pytest.approx(np.mean(matches))
    assert (out / "side_by_side.png").is_file()
    assert "answer match" in capsys.readouterr().out


def test_send_runs_a_users_image_and_query(tmp_path):
    """`uoisc send IMAGE -q ...` with a 100x80 RGBA PNG of the user's: the source resizes
    and crops it to the model's 64x64, the query reaches the report, and the image
    arrives intact at 30 dB (no judge: this path needs no torch)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "mine.png"
    Image.fromarray(rng.integers(0, 256, (80, 100, 4), dtype=np.uint8), "RGBA").save(path)
    out = tmp_path / "send"
    query = "What colour is the cat?"
    assert uoisc_cli.main(["send", str(path), "-q", query, "-m", MODEL, "-o", str(out),
                           "--no-judge"] + CLEAN) == 0
    report = read_report(out)
    (record,) = report["images"]
    assert record["query"] == query and record["meta"]["decode_status"] == "ok"
    assert np.asarray(Image.open(out / record["rx_png"])).shape == (64, 64, 3)
    assert report["summary"]["answer_match_rate"] is None


@pytest.mark.parametrize("argv, message", [
    (["demo", "-m", "/no/such/bundle"], "neither a bundle folder"),
    (["demo", "-n", "0"], "n_images"),
    (["send", "a.png", "b.png"], "one image file or one folder"),
    (["send", "/no/such/image.png", "-q", "What colour is the cat?"], "existing file or folder"),
])
def test_bad_command_lines_are_refused_with_a_message(argv, message, capsys):
    """Bad arguments exit with status 2 and say what is wrong, before any flowgraph runs."""
    with pytest.raises(SystemExit) as exit_info:
        uoisc_cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
