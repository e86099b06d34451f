"""Run helpers shared by the trainers: learning-rate schedule, fp16 rounding, run-folder rules."""

import pytest
import torch

from uoisc_train.runs import fp16_rounded_copy, prepare_run_dir, warmup_cosine_lr


def test_warmup_then_cosine_schedule():
    """Linear warm-up reaches the base rate, cosine decay halves it mid-way and ends near zero."""
    assert warmup_cosine_lr(0, 110, 1.0, 10) == pytest.approx(0.1)
    assert warmup_cosine_lr(9, 110, 1.0, 10) == pytest.approx(1.0)
    assert warmup_cosine_lr(60, 110, 1.0, 10) == pytest.approx(0.5)
    assert warmup_cosine_lr(109, 110, 1.0, 10) < 1e-3


def test_fp16_rounded_copy_matches_half_precision_and_leaves_original():
    """The copy holds exactly the fp16 values (what the model folder stores); the original is untouched."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    original = model.weight.detach().clone()
    rounded = fp16_rounded_copy(model)
    torch.testing.assert_close(rounded.weight, original.half().float(), rtol=0, atol=0)
    torch.testing.assert_close(model.weight, original, rtol=0, atol=0)


def test_fresh_run_refuses_existing_checkpoint(tmp_path):
    """Starting a new run where a checkpoint exists is refused; resuming with changed arguments too."""
    prepare_run_dir(tmp_path, {"lr": 1.0}, resume=False)
    (tmp_path / "last.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="--resume"):
        prepare_run_dir(tmp_path, {"lr": 1.0}, resume=False)
    with pytest.raises(ValueError, match="lr"):
        prepare_run_dir(tmp_path, {"lr": 2.0}, resume=True)
    prepare_run_dir(tmp_path, {"lr": 1.0, "threads": 4}, resume=True)
