"""Training CLI of the UO-ISC codec: configuration, one optimiser step, checkpoints and resume.

Everything runs on the random-init ``uoisc-tiny-clip`` (``pretrained=None``) and a
random-init tiny judge, so the tests need no trained artefact.
"""

import json

import pytest
import torch

from uoisc_train.baselines import baseline_overrides
from uoisc_train.train import main, resolve_configs, run_training
from uoisc_train.training import (SceneQuestionBatches, Trainer, TrainSettings, apply_overrides,
                                  build_codec, load_codec, split_overrides)
from uoisc_train.train import load_judge

# A run small enough for a unit test: 16 scenes, batches of 4, 3 + 1 steps.
SMALL = ["train_scenes=16", "batch_size=4", "phase1_steps=3", "phase2_steps=1",
         "judge=random-tiny", "log_every=1", "checkpoint_every=2", "restart_every=2"]


def test_overrides_go_to_the_codec_config_or_the_settings():
    """--set keys are sorted into codec fields and training settings; JSON values are parsed."""
    codec, settings = resolve_configs("uoisc-tiny", "uoisc",
                                      ["segment_length=16", "layers=[2,6]", "phase1_steps=7",
                                       "pretrained=null", "judge=none"])
    assert codec.segment_length == 16 and codec.layers == (2, 6) and codec.pretrained is None
    assert settings.phase1_steps == 7 and settings.judge == "none"


def test_unknown_override_key_is_refused_with_its_name():
    """A key that is neither a codec field nor a setting raises ValueError naming it."""
    with pytest.raises(ValueError, match="segmnet_length"):
        split_overrides(["segmnet_length=4"])
    with pytest.raises(ValueError, match="not KEY=VALUE"):
        apply_overrides({"a": 1}, ["a"])


def test_bad_setting_value_names_the_field():
    """TrainSettings validates its values and names the bad one."""
    with pytest.raises(ValueError, match="batch_size=0"):
        TrainSettings(batch_size=0)


def test_baselines_are_the_documented_overrides():
    """Baseline (a) drops FiLM and the relevance loss; (b) is random-init CLIP trained end to end."""
    codec, settings = resolve_configs("uoisc-tiny", "no-text-alignment", [])
    assert codec.text_alignment is False and codec.lambda_relevance == 0
    codec, settings = resolve_configs("uoisc-tiny", "no-pretrained-vlm", [])
    assert codec.pretrained is None and settings.train_backbone is True
    # The user's --set comes after the baseline's overrides.
    codec, _ = resolve_configs("uoisc-tiny", "no-text-alignment", ["lambda_relevance=0.5"])
    assert codec.lambda_relevance == 0.5
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_overrides("jpeg")


def test_baseline_b_trains_the_backbone():
    """With train_backbone the CLIP towers' parameters are among the trainable ones."""
    codec, settings = resolve_configs("uoisc-tiny", "no-pretrained-vlm", [])
    model = build_codec(codec, settings.train_backbone)
    backbone_params = {id(p) for p in model.backbone.parameters()}
    assert backbone_params <= {id(p) for p in model.trainable_parameters()}
    frozen = build_codec(codec, False)
    assert not any(p.requires_grad for p in frozen.backbone.parameters())


class _FixedBatches:
    """Always the same batch (to measure the effect of one step on it)."""

    def __init__(self, batches: SceneQuestionBatches, size: int):
        self.batch = batches.sample(size)
        self.generator = batches.generator

    def sample(self, batch_size):
        return self.batch


def test_one_training_step_reduces_the_loss_on_a_fixed_batch():
    """Phase I loss (eq. 13, with the judge's relevance term) of a fixed batch drops after one step."""
    torch.manual_seed(0)
    codec, settings = resolve_configs("uoisc-tiny", "uoisc", SMALL + ["restart_every=0"])
    model = build_codec(codec)
    batches = _FixedBatches(SceneQuestionBatches("train", 16, 0, codec.image_size,
                                                 model.backbone.tokenize), 4)
    trainer = Trainer(model, settings, batches, load_judge("random-tiny"))
    before = trainer.batch_loss(*batches.batch)
    record = trainer.train_step()
    after = trainer.batch_loss(*batches.batch)
    assert record["phase"] == 1 and record["relevance"] > 0
    assert after < before


def test_phase_two_updates_the_discriminator():
    """After phase1_steps the trainer switches to Phase II and steps the PatchGAN too."""
    torch.manual_seed(0)
    codec, settings = resolve_configs("uoisc-tiny", "uoisc",
                                      SMALL + ["phase1_steps=0", "lambda_relevance=0", "judge=none"])
    model = build_codec(codec)
    batches = SceneQuestionBatches("train", 16, 0, codec.image_size, model.backbone.tokenize)
    trainer = Trainer(model, settings, batches)
    weights = [p.detach().clone() for p in trainer.discriminator.parameters()]
    record = trainer.train_step()
    assert record["phase"] == 2 and "adversarial" in record and "discriminator" in record
    assert any(not torch.equal(w, p) for w, p in zip(weights, trainer.discriminator.parameters()))


def test_cli_writes_the_run_folder_and_resume_continues(tmp_path):
    """main() writes params.json, log.jsonl and last.pt; a resumed longer run continues at the
    saved step and ends where an uninterrupted run ends (same weights)."""
    run = tmp_path / "run"
    argv = ["-r", str(run), "-t", "1"] + [f"--set={s}" for s in SMALL]
    assert main(argv) == 0
    params = json.loads((run / "params.json").read_text())
    assert params["args"]["settings"]["phase1_steps"] == 3 and "git_commit" in params
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and [r["phase"] for r in log] == [1, 1, 1, 2]
    # Interrupted: stop a copy of the run at its step-2 checkpoint, then resume it.
    codec, settings = resolve_configs("uoisc-tiny", "uoisc", SMALL)
    half = tmp_path / "half"
    run_training(codec, settings.__class__(**{**settings.to_dict(), "phase2_steps": 0,
                                              "phase1_steps": 2}), half, threads=1)
    state = torch.load(half / "last.pt", weights_only=False)
    assert state["step"] == 2
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    torch.save(state | {"settings": settings.to_dict()}, resumed / "last.pt")
    record = run_training(codec, settings, resumed, threads=1, resume=True)
    assert record["step"] == 4
    full, _ = load_codec(run / "last.pt")
    continued, _ = load_codec(resumed / "last.pt")
    for (name, a), b in zip(full.state_dict().items(), continued.state_dict().values()):
        torch.testing.assert_close(a, b, msg=f"{name} differs between full and resumed runs")


def test_cli_refuses_to_overwrite_or_resume_with_other_arguments(tmp_path):
    """A fresh run into a folder with a checkpoint, or a resume with changed settings, exits 2."""
    run = tmp_path / "run"
    argv = ["-r", str(run), "-t", "1"] + [f"--set={s}" for s in SMALL]
    assert main(argv + ["--set=phase2_steps=0", "--set=phase1_steps=1"]) == 0
    assert main(argv + ["--set=phase2_steps=0", "--set=phase1_steps=1"]) == 2
    assert main(argv + ["--resume"]) == 2


def test_checkpoint_refuses_other_backbone_weights(tmp_path):
    """Loading a checkpoint whose recorded backbone fingerprint differs raises ValueError."""
    run = tmp_path / "run"
    assert main(["-r", str(run), "-t", "1", "--set=phase1_steps=1", "--set=phase2_steps=0"]
                + [f"--set={s}" for s in SMALL[:2] + SMALL[4:]]) == 0
    state = torch.load(run / "last.pt", weights_only=False)
    state["backbone_fingerprint"] = "0" * 64
    torch.save(state, run / "last.pt")
    with pytest.raises(ValueError, match="fingerprint"):
        load_codec(run / "last.pt")



def test_max_seconds_stops_a_run_that_can_be_resumed(tmp_path, monkeypatch):
    """With a clock that advances 10 s per reading and max_seconds=15, the run stops after
    step 1, saves last.pt at step 1 and logs stopped_early; --resume finishes all 4 steps."""
    import itertools
    import uoisc_train.training.loop as loop_module  # the step loop reads the clock
    ticks = itertools.count(0.0, 10.0)
    monkeypatch.setattr(loop_module.time, "monotonic", lambda: next(ticks))
    run = tmp_path / "run"
    argv = ["-r", str(run), "-t", "1"] + [f"--set={s}" for s in SMALL] + ["--set=max_seconds=15"]
    assert main(argv) == 0
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log[-1]["stopped_early"] is True and log[-1]["step"] == 1
    assert torch.load(run / "last.pt", weights_only=False)["step"] == 1
    monkeypatch.setattr(loop_module.time, "monotonic", lambda: 0.0)
    assert main(argv + ["--resume"]) == 0
    assert torch.load(run / "last.pt", weights_only=False)["step"] == 4


def test_round_fp16_rounds_only_the_stored_backbone_and_keeps_it_loadable(tmp_path):
    """round-fp16 writes a checkpoint whose backbone tensors are exactly fp16-representable,
    whose codec parts are untouched, and which loads (its fingerprint was recomputed)."""
    from uoisc_train.training.checkpoint import BACKBONE_PREFIX, main as checkpoint_main

    run = tmp_path / "run"
    assert main(["-r", str(run), "-t", "1", "--set=phase1_steps=1", "--set=phase2_steps=0"]
                + [f"--set={s}" for s in SMALL[:2] + SMALL[4:]]) == 0
    rounded_path = tmp_path / "rounded.pt"
    assert checkpoint_main(["round-fp16", str(run / "last.pt"), str(rounded_path)]) == 0
    before = torch.load(run / "last.pt", weights_only=False)["codec_state"]
    after = torch.load(rounded_path, weights_only=False)
    assert after["backbone_rounded_to_fp16"] is True
    backbone_keys = [k for k in before if k.startswith(BACKBONE_PREFIX)]
    assert backbone_keys, "the random-init backbone must be stored in the checkpoint"
    changed = 0
    for key, value in before.items():
        new = after["codec_state"][key]
        if key.startswith(BACKBONE_PREFIX) and value.is_floating_point():
            assert torch.equal(new, new.half().float()), key
            changed += int(not torch.equal(new, value))
        else:
            assert torch.equal(new, value), f"{key} must not change"
    assert changed > 0
    model, _ = load_codec(rounded_path)  # the recomputed fingerprint matches the rounded weights
    assert model.backbone is not None


def test_round_fp16_refuses_a_checkpoint_without_a_stored_backbone(tmp_path):
    """A codec whose CLIP comes from a hash-checked artefact is left alone: ValueError."""
    from uoisc_train.training.checkpoint import round_stored_backbone_fp16

    run = tmp_path / "run"
    assert main(["-r", str(run), "-t", "1", "--set=phase1_steps=1", "--set=phase2_steps=0"]
                + [f"--set={s}" for s in SMALL[:2] + SMALL[4:]]) == 0
    state = torch.load(run / "last.pt", weights_only=False)
    state["stores_backbone"] = False
    torch.save(state, run / "last.pt")
    with pytest.raises(ValueError, match="stores no backbone"):
        round_stored_backbone_fp16(run / "last.pt", tmp_path / "out.pt")
