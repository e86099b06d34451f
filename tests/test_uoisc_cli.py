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
VLF_MODEL = os.path.join(ROOT, "models", "uoisc-tiny-vlf")
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


def test_demo_vlf_writes_captions_scored_against_the_scenes(tmp_path, capsys):
    """`uoisc demo --mode vlf -n 2` on a clean channel: the VLF bundle's 40-byte frames arrive
    intact; every image record has the received caption, the scene's true caption (regenerated
    from the world, independent of the link) and its scores, the summary's caption accuracy is
    the mean of those scores, the judge compared original and generated image, and the
    side-by-side figure exists."""
    from uoisc_train.world import generate_scene
    from uoisc_train.vlf.caption_metrics import caption_scores

    out = tmp_path / "vlf"
    assert uoisc_cli.main(["demo", "--mode", "vlf", "-n", "2", "--steps", "3", "--judge", JUDGE,
                           "-o", str(out)] + CLEAN) == 0
    report = read_report(out)
    summary = report["summary"]
    assert report["config"]["model"].endswith("models/uoisc-tiny-vlf")
    assert (summary["n_received"], summary["codewords_failed"]) == (2, 0)
    assert summary["bits_per_image"] == 8 * (HEADER_BYTES + read_spec(VLF_MODEL)["bits_per_image"] // 8)
    for record in report["images"]:
        assert record["caption"] == record["meta"]["caption"] and record["caption"]
        reference = record["reference_meta"]
        truth = generate_scene(reference["scene_seed"], reference["height"], reference["split"]).caption
        assert record["reference_caption"] == truth
        assert record["caption_scores"] == caption_scores(truth, record["caption"])
        assert record["answer_original"] and record["answer_reconstruction"]
    for key in ("colour", "count", "shape", "background"):
        assert summary["caption_accuracy"][key] == pytest.approx(
            np.mean([r["caption_scores"][key] for r in report["images"]]))
    assert summary["caption_accuracy"]["n"] == 2
    assert (out / "side_by_side.png").is_file()
    assert "captions" in capsys.readouterr().out


def test_send_vlf_captions_a_users_image(tmp_path):
    """`uoisc send IMAGE --mode vlf` on the user's PNG: one generated 64x64 image with a caption,
    which images.jsonl holds too, and the side-by-side figure; no true caption exists for a
    user's image, so none is scored."""
    path = tmp_path / "mine.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (70, 90, 3), dtype=np.uint8)).save(path)
    out = tmp_path / "send"
    assert uoisc_cli.main(["send", str(path), "--mode", "vlf", "--steps", "2", "-o", str(out),
                           "--no-judge"] + CLEAN) == 0
    report = read_report(out)
    (record,) = report["images"]
    assert record["caption"] and record["reference_caption"] is None and record["caption_scores"] is None
    assert report["summary"]["caption_accuracy"] is None
    assert np.asarray(Image.open(out / record["rx_png"])).shape == (64, 64, 3)
    with open(out / "images.jsonl", encoding="utf-8") as f:
        assert [json.loads(line)["meta"]["caption"] for line in f] == [record["caption"]]
    assert (out / "side_by_side.png").is_file()


@pytest.mark.parametrize("argv, message", [
    (["demo", "-m", "/no/such/bundle"], "neither a bundle folder"),
    (["demo", "--mode", "vlf", "-m", MODEL], "is a 'uoisc' bundle, not 'vlf'"),
    (["demo", "-m", VLF_MODEL], "is a 'vlf' bundle, not 'uoisc'"),
    (["demo", "--mode", "vlf", "--steps", "0"], "steps"),
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
