"""The tiny CLIP training CLI: one short epoch, run folder, checkpoint, resume rules, export."""

import json

import pytest

from uoisc_train.clip import load_tiny_clip
from uoisc_train.artefact import read_metrics
from uoisc_train.clip.train import main

TINY_RUN = ["--train-scenes", "64", "--batch-size", "32", "--epochs", "1", "--warmup-steps", "1",
            "--eval-scenes", "100", "--threads", "1"]


def test_help_exits_cleanly(capsys):
    """--help prints the usage with defaults and exits with status 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--run-dir" in capsys.readouterr().out


def test_bad_argument_is_a_parser_error(tmp_path):
    """A batch larger than the data is refused before any work (exit status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--run-dir", str(tmp_path), "--train-scenes", "8", "--batch-size", "16"])
    assert exit_info.value.code == 2


def test_one_epoch_writes_run_and_loadable_export(tmp_path):
    """A short run records params.json and a checkpoint, and exports a folder that loads hash-checked
    with the metrics it reports."""
    run_dir, export = tmp_path / "run", tmp_path / "model"
    metrics = main(["--run-dir", str(run_dir), "--export", str(export), *TINY_RUN])
    params = json.loads((run_dir / "params.json").read_text())
    assert params["args"]["train_scenes"] == 64 and "machine" in params
    assert (run_dir / "last.pt").is_file()
    assert read_metrics(export) == json.loads((run_dir / "metrics.json").read_text()) == metrics
    for key in ("retrieval_image_to_text", "shape_presence", "held_out_shape_presence"):
        assert 0.0 <= metrics[key] <= 1.0
    backbone = load_tiny_clip(directory=export)
    assert backbone.grid_size == (8, 8)

    # A fresh run may not overwrite the checkpoint; resuming with other arguments is refused.
    with pytest.raises(ValueError, match="resume"):
        main(["--run-dir", str(run_dir), *TINY_RUN])
    with pytest.raises(ValueError, match="changed arguments"):
        main(["--run-dir", str(run_dir), "--resume", *TINY_RUN[:-4], "--eval-scenes", "200", "--threads", "1"])
    # Resuming a finished run trains no further epoch and reproduces the metrics.
    assert main(["--run-dir", str(run_dir), "--resume", *TINY_RUN])["shape_presence"] == metrics["shape_presence"]
