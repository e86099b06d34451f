"""Smoke test of ``bench/codec_speed.py``: the ``--quick`` run on the shipped tiny bundle writes
a complete, self-consistent report. Nothing here is timed: figures are only checked for
shape and internal consistency (a benchmark's numbers belong in ``bench/results``).
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench" / "codec_speed.py"
TINY = REPO / "models" / "uoisc-tiny-uoisc"


def _run(*args, cwd=REPO):
    return subprocess.run([sys.executable, str(BENCH), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """The report of one ``--quick --repeats 1`` run (tiny bundle, every part)."""
    tmp = tmp_path_factory.mktemp("codec_speed")
    out = tmp / "report.json"
    done = _run("--quick", "--repeats", "1", "--cache-dir", str(tmp / "cache"), "-o", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_tables_of_the_report_name_every_measured_point(quick_report, tmp_path):
    """``--tables`` prints the README's markdown tables from a report: one row per codec ratio,
    PHY point, loopback run and split, each starting with the bundle's name."""
    path = tmp_path / "report.json"
    path.write_text(json.dumps(quick_report))
    done = _run("--tables", str(path))
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| tiny")]
    expected = (len(quick_report["bundles"]) + len(quick_report["onnxruntime_over_torch"])
                + len(quick_report["phy"]) + len(quick_report["loopback"]) + len(quick_report["split"]))
    assert len(rows) == expected
    assert quick_report["command"] in done.stdout


def _check_summary(summary):
    assert set(summary) == {"median", "p90"}
    assert 0 < summary["median"] <= summary["p90"]


def test_quick_report_records_how_it_was_made(quick_report):
    """The JSON names the command, commit, seed, machine and every flag next to the tables."""
    report = quick_report
    assert report["command"].startswith("python bench/codec_speed.py --quick")
    assert report["commit"] and report["seed"] == 0
    for key in ("cpu_model", "cpu_count", "onnxruntime", "torch", "gnuradio", "load_average_at_start"):
        assert key in report["machine"], key
    assert report["flags"]["quick"] is True and report["flags"]["bundles"] == ["tiny"]
    assert report["flags"]["repeats"] == 1
    for table in ("bundles", "codec", "onnxruntime_over_torch", "phy", "loopback", "split"):
        assert report[table], f"{table} is empty"


def test_bundle_facts_match_codec_json(quick_report):
    """The tiny bundle's payload is the 8-byte codec header plus its packed indices (codec.json)."""
    spec = json.loads((TINY / "codec.json").read_text())
    (facts,) = quick_report["bundles"]
    assert facts["model_id"] == spec["model_id"]
    assert facts["indices_shape"] == spec["indices_shape"]
    assert facts["payload_bytes"] == 8 + math.ceil(spec["bits_per_image"] / 8)
    assert facts["export_s"] is None  # shipped, not exported by the bench


def test_codec_rows_cover_both_runtimes_and_stages(quick_report):
    """Encoder and decoder are timed on onnxruntime (CPU) and torch; per-image times are the
    call times over the batch, images/s the batch over the median call."""
    rows = quick_report["codec"]
    keys = {(r["stage"], r["runtime"], r["device"]) for r in rows}
    for stage in ("encoder", "decoder"):
        assert (stage, "onnxruntime", "CPUExecutionProvider") in keys
        assert (stage, "torch", "cpu") in keys
    for row in rows:
        _check_summary(row["call_s"])
        _check_summary(row["per_image_s"])
        assert row["n_calls"] == 1
        assert row["per_image_s"]["median"] == pytest.approx(row["call_s"]["median"] / row["batch_size"])
        assert row["images_per_s"] == pytest.approx(row["batch_size"] / row["call_s"]["median"])
    for ratio in quick_report["onnxruntime_over_torch"]:
        assert ratio["onnxruntime_speedup_over_torch"] > 0


def test_torch_twin_of_the_tiny_bundle_gives_its_indices(quick_report):
    """When the training checkpoint is on the machine, torch and onnxruntime agree on every
    index (the export's parity promise); otherwise the share is only a fraction in [0, 1]."""
    (facts,) = quick_report["bundles"]
    agreement = quick_report["torch_onnxruntime_index_agreement"]["tiny"]
    if facts["torch_weights"].startswith("checkpoint"):
        assert agreement == 1.0
    else:
        assert 0.0 <= agreement <= 1.0


def test_phy_and_loopback_rows_account_for_every_frame(quick_report):
    """The PHY row (--quick: AWGN 20 dB only) carries the bundle's payload; at 20 dB AWGN every
    frame and every loopback image arrives (8-PSK at 20 dB is far above the LDPC threshold)
    and has a latency."""
    payload = quick_report["bundles"][0]["payload_bytes"]
    (phy,) = quick_report["phy"]
    assert (phy["fading"], phy["esno_db"], phy["payload_bytes"]) == ("awgn", 20.0, payload)
    assert phy["frames_delivered"] == phy["n_frames"]
    assert phy["one_burst_delivered"] == phy["one_burst_runs"]
    _check_summary(phy["one_burst_latency_s"])
    (loop,) = quick_report["loopback"]
    assert loop["n_received"] == loop["n_images"] == loop["n_latencies"] and loop["n_lost"] == 0
    _check_summary(loop["latency_s"])
    assert loop["images_per_s"] > 0


def test_split_fractions_add_up(quick_report):
    """Encoder, PHY and decoder times per image are positive and their fractions sum to 1."""
    (split,) = quick_report["split"]
    assert split["sum_s"] == pytest.approx(split["encoder_s"] + split["phy_s"] + split["decoder_s"])
    assert set(split["fractions"]) == {"encoder", "phy", "decoder"}
    assert sum(split["fractions"].values()) == pytest.approx(1.0)
    assert all(f > 0 for f in split["fractions"].values())


@pytest.mark.parametrize("flags", [["--repeats", "0"], ["--batch-sizes", "0"], ["--warmup", "-1"],
                                   ["--bundles", "resnet"], ["--phy-points", "awgn"],
                                   ["--phy-points", "rician:10"]])
def test_bad_flags_are_refused(flags):
    """A count below its minimum or an unknown bundle ends with argparse's usage error (status 2)."""
    done = _run(*flags)
    assert done.returncode == 2
    assert "error" in done.stderr
