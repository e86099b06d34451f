"""Reproducible training runs: run folder with params.json, seeding, checkpoints.

Shared by the tiny CLIP, tiny judge and codec trainers (open_clip's habit of writing
every argument next to the checkpoints, plus the seed, commit and machine).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from uoisc_runtime.machine import cpu_model

__all__ = ["CHECKPOINT_NAME", "seed_everything", "git_commit", "machine_description",
           "prepare_run_dir", "save_checkpoint", "load_checkpoint", "resume_epoch_training",
           "add_run_dir_argument", "add_model_run_arguments", "require_positive", "warmup_cosine_lr",
           "fp16_rounded_copy", "record_metrics", "provenance", "run_cli"]

_log = logging.getLogger(__name__)

CHECKPOINT_NAME = "last.pt"
# Arguments that may differ between a run and its resumption.
_RESUME_FREE_ARGS = {"resume", "threads", "export"}


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch, and ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def git_commit() -> str | None:
    """Commit of the checkout this code runs from (None outside git)."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def machine_description() -> str:
    """One line: CPU model, cores, torch threads, torch version (for model cards)."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__} "
            f"with {torch.get_num_threads()} threads, CPU training (no GPU used)")


def prepare_run_dir(run_dir: str | Path, params: dict[str, Any], resume: bool) -> Path:
    """Create the run folder and write ``params.json`` (args, commit, machine).

    Raises:
        ValueError: resuming with arguments other than those recorded, or
            starting a fresh run in a folder that already holds a checkpoint.
    """
    run_dir = Path(run_dir)
    params_path = run_dir / "params.json"
    recorded = json.loads(params_path.read_text()) if params_path.is_file() else None
    if resume and recorded is not None:
        changed = {k for k in params if k not in _RESUME_FREE_ARGS
                   and recorded.get("args", {}).get(k) != params[k]}
        if changed:
            raise ValueError(f"cannot resume {run_dir} with changed arguments {sorted(changed)}")
    if not resume and (run_dir / CHECKPOINT_NAME).exists():
        raise ValueError(f"{run_dir} already holds a checkpoint; pass --resume or another --run-dir")
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {"args": params, "git_commit": git_commit(), "machine": machine_description()}
    params_path.write_text(json.dumps(record, indent=2) + "\n")
    return run_dir


def save_checkpoint(run_dir: str | Path, state: dict[str, Any]) -> Path:
    """Write ``last.pt`` atomically (a crash never leaves a half-written checkpoint)."""
    path = Path(run_dir) / CHECKPOINT_NAME
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's last checkpoint, or None when there is none yet."""
    path = Path(run_dir) / CHECKPOINT_NAME
    if not path.is_file():
        return None
    _log.info("resuming from %s", path)
    return torch.load(path, map_location="cpu", weights_only=False)


def resume_epoch_training(run_dir: str | Path, resume: bool, model: torch.nn.Module,
                          optimizer: torch.optim.Optimizer) -> tuple[int, float]:
    """Restore an epoch-based trainer's model and optimizer from the run's checkpoint.

    Returns:
        ``(first epoch to run, training seconds already spent)``: ``(0, 0.0)`` when
        ``resume`` is False or there is no checkpoint yet.
    """
    checkpoint = load_checkpoint(run_dir) if resume else None
    if checkpoint is None:
        return 0, 0.0
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"] + 1, checkpoint["elapsed_s"]


def add_run_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``-r/--run-dir``, the run folder every model trainer writes (see :func:`prepare_run_dir`)."""
    parser.add_argument("-r", "--run-dir", required=True, help="folder for params.json, checkpoint, metrics")


def add_model_run_arguments(group: argparse._ArgumentGroup) -> None:
    """``--threads``, ``--resume`` and ``--export``, the tail of every model trainer's "run" group."""
    group.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    group.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    group.add_argument("--export", default=None, help="write the trained model folder here")


def require_positive(parser: argparse.ArgumentParser, args: argparse.Namespace,
                     names: Sequence[str]) -> None:
    """``parser.error`` naming the first of ``names`` (argument dests) that is below 1."""
    for name in names:
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")


def warmup_cosine_lr(step: int, total_steps: int, base_lr: float, warmup_steps: int) -> float:
    """Learning rate at ``step``: linear warm-up to ``base_lr``, then cosine decay to zero."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * base_lr * (1 + math.cos(math.pi * progress))


def fp16_rounded_copy(model: torch.nn.Module) -> torch.nn.Module:
    """An eval-mode copy whose floating weights went through fp16, as model folders store them.

    Metrics are computed on this copy, so they describe exactly the shipped weights.
    """
    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for tensor in rounded.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())
    return rounded.eval()


def record_metrics(run_dir: str | Path, metrics: dict[str, Any], train_wall_s: float) -> dict[str, Any]:
    """Add the training wall time to ``metrics``, write ``metrics.json`` in the run folder, log it."""
    metrics["train_wall_s"] = round(train_wall_s, 1)
    (Path(run_dir) / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _log.info("metrics: %s", metrics)
    return metrics


def provenance(data: dict[str, Any], command: str, args: Any, train_wall_s: float) -> dict[str, Any]:
    """What a model card records of a run: the data it saw and how it was trained."""
    return {"data": data,
            "training": {"command": command, "args": vars(args), "train_wall_s": round(train_wall_s, 1),
                         "machine": machine_description()}}


def run_cli(parser, check_args: Callable, train: Callable, argv: list[str] | None) -> Any:
    """Shared ``main()`` of the trainers: parse, cross-check, log to stderr, train.

    ``train(args, command)`` gets the command line as typed, for the model card.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    check_args(parser, args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    return train(args, " ".join([parser.prog, *argv]))
