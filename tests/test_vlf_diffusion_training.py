"""The generator's training CLI end to end on a tiny slice: train, evaluate, export, reload, resume."""

import json

import pytest

from uoisc_train.vlf import train_generator
from uoisc_train.vlf.diffusion_artefact import load_generator
from uoisc_train.vlf.diffusion_export import main as export_main

from test_vlf_diffusion import one_thread  # noqa: F401 (autouse fixture)

# A tiny U-Net; the feature width is the shipped tiny CLIP's (128).
TINY_SETS = ["--set", "sample_size=8", "--set", "channels=[8,16]", "--set", "groups=4",
             "--set", "embed_dim=16", "--set", "attention_levels=[1]", "--set", "timesteps=50"]


def _argv(run_dir, *extra):
    return ["-r", str(run_dir), "--train-scenes", "16", "--steps", "3", "-b", "4", "--log-every", "1",
            "--checkpoint-every", "2", *TINY_SETS, *extra]


def test_train_evaluate_export_reload_and_reexport(tmp_path):
    """A 3-step run writes params/log/checkpoint/metrics, evaluates the judge's answer match
    on both test splits and guidance scales, exports a model folder that reloads to the same
    weights, and the folder's denoiser exports to ONNX."""
    model_dir = tmp_path / "model"
    metrics = train_generator.main(_argv(tmp_path / "run", "--eval-scenes", "2", "--eval-steps", "2",
                                         "--export", str(model_dir), "--figure", str(tmp_path / "grid.png")))
    assert metrics["step"] == 3
    for split in ("test_zeroshot", "test_seen"):
        for guidance in ("guidance_1", "guidance_3"):
            assert 0 <= metrics["eval"][split][guidance]["answer_match_rate"] <= 1
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in log] == [1, 2, 3]
    assert (tmp_path / "grid.png").stat().st_size > 0
    model = load_generator(model_dir)
    assert model.config.sample_size == 8 and model.config.feature_dim == 128
    meta = export_main([str(model_dir), str(tmp_path / "onnx")])
    assert meta["parity_max_abs_error"] < 1e-4


def test_resume_continues_from_the_checkpoint_and_refuses_changed_arguments(tmp_path):
    """--resume with the same arguments starts from the saved step (nothing left to do: no
    new log lines); changed arguments or a fresh start in a used folder are refused."""
    run_dir = tmp_path / "run"
    train_generator.main(_argv(run_dir, "--eval-scenes", "0"))
    lines = (run_dir / "log.jsonl").read_text()
    assert train_generator.main(_argv(run_dir, "--eval-scenes", "0", "--resume"))["step"] == 3
    assert (run_dir / "log.jsonl").read_text() == lines
    with pytest.raises(ValueError, match="steps"):
        train_generator.main([*_argv(run_dir, "--eval-scenes", "0", "--resume"), "--steps", "5"])
    with pytest.raises(ValueError, match="checkpoint"):
        train_generator.main(_argv(run_dir, "--eval-scenes", "0"))


def test_bad_config_override_is_a_usage_error(tmp_path):
    """An invalid DiffusionConfig value is reported by argparse (exit status 2) before any work."""
    with pytest.raises(SystemExit) as exit_info:
        train_generator.main(_argv(tmp_path / "run", "--set", "p_uncond=1.5"))
    assert exit_info.value.code == 2
    assert not (tmp_path / "run").exists()
