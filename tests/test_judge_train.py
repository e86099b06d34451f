"""The tiny judge training CLI: one short epoch, run folder, checkpoint and a loadable export."""

import json

import pytest
import torch

from uoisc_train.judges import load_tiny_judge
from uoisc_train.judges.train import main
from uoisc_train.world import ANSWERS


def test_help_exits_cleanly(capsys):
    """--help prints the usage with defaults and exits with status 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--noise-std" in capsys.readouterr().out


def test_bad_noise_is_a_parser_error(tmp_path):
    """A pixel-noise level outside [0, 0.5) is refused before any work (exit status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--run-dir", str(tmp_path), "--noise-std", "0.7"])
    assert exit_info.value.code == 2


def test_one_epoch_writes_run_and_loadable_export(tmp_path):
    """A short run records params.json, a checkpoint and metrics per split; the export loads hash-checked
    and answers from the world's vocabulary."""
    run_dir, export = tmp_path / "run", tmp_path / "model"
    metrics = main(["--run-dir", str(run_dir), "--export", str(export), "--train-scenes", "32",
                    "--batch-size", "32", "--epochs", "1", "--warmup-steps", "1", "--eval-scenes", "8"])
    assert (run_dir / "last.pt").is_file()
    assert json.loads((run_dir / "params.json").read_text())["args"]["train_scenes"] == 32
    for split in ("test_seen", "test_zeroshot", "pretrain"):
        assert metrics[split]["n_questions"] == 8 * 5
        assert 0.0 <= metrics[split]["accuracy"] <= 1.0
    judge = load_tiny_judge(export)
    assert set(judge.answer(torch.rand(1, 3, 64, 64), ["Is there a star?"])) <= set(ANSWERS)


def test_shape_cell_targets_follow_the_label_map():
    """Each stride-4 cell gets the shape class of the object visible at its centre pixel (0: background)."""
    import numpy as np
    from uoisc_train.judges.train import shape_cell_targets
    from uoisc_train.world import COLOUR_RGB, SHAPES, generate_scene
    scene = generate_scene(12345, 64, "pretrain")
    targets = shape_cell_targets(scene, SHAPES)
    assert targets.shape == (16, 16)
    for row in range(16):
        for col in range(16):
            label = scene.label[4 * row + 2, 4 * col + 2]
            expected = 0 if label < 0 else 1 + SHAPES.index(scene.objects[label].shape)
            assert targets[row, col] == expected
            if label >= 0:  # the label map indexes scene.objects: the pixel has that object's colour
                assert tuple(scene.image[4 * row + 2, 4 * col + 2]) == COLOUR_RGB[scene.objects[label].colour]
    assert set(np.unique(targets)) - {0} <= {1 + SHAPES.index(o.shape) for o in scene.objects}


def test_same_arguments_give_identical_weights(tmp_path):
    """Training is seeded end to end: two runs with the same arguments export byte-identical weights."""
    hashes = []
    for name in ("a", "b"):
        main(["--run-dir", str(tmp_path / name), "--export", str(tmp_path / f"model-{name}"),
              "--train-scenes", "32", "--batch-size", "16", "--epochs", "1", "--warmup-steps", "1",
              "--eval-scenes", "2"])
        hashes.append(json.loads((tmp_path / f"model-{name}" / "config.json").read_text())["weights"]["sha256"])
    assert hashes[0] == hashes[1]
