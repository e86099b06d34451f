"""The step loop shared by the codec trainers: progress bar, JSON-lines log, checkpoints, time budget."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from uoisc_train.runs import save_checkpoint

__all__ = ["LOG_NAME", "run_steps"]

_log = logging.getLogger(__name__)

#: One JSON record per logged step, appended (a resumed run continues the file).
LOG_NAME = "log.jsonl"


def run_steps(step: Callable[[], dict[str, Any]], state: Callable[[], dict[str, Any]],
              run_dir: str | Path, first_step: int, total_steps: int, log_every: int,
              checkpoint_every: int, max_seconds: int = 0) -> dict[str, Any]:
    """Call ``step()`` until ``total_steps``; log, checkpoint and stop on the time budget.

    Args:
        step: one optimiser step; returns its record, whose ``"step"`` is the
            number of steps done (``loss`` and ``mse`` are shown in the bar).
        state: the checkpoint to save (``runs.save_checkpoint``), every
            ``checkpoint_every`` steps and once at the end.
        run_dir: the run folder (``log.jsonl`` and ``last.pt`` go there).
        first_step: steps already done (a resumed run).
        total_steps: steps of the whole run.
        log_every: steps between log records (the last step is always logged).
        checkpoint_every: steps between checkpoints.
        max_seconds: wall-clock budget (0 = none); when it runs out the loop
            stops after the current step, logs ``"stopped_early": true`` and
            still saves the checkpoint, so ``--resume`` can finish the run.

    Returns:
        The last step's record (``{"step": first_step}`` when nothing was left to do).
    """
    run_dir = Path(run_dir)
    record: dict[str, Any] = {"step": first_step}
    started = time.monotonic()
    done = first_step
    with open(run_dir / LOG_NAME, "a") as log, \
            tqdm(total=total_steps, initial=first_step, disable=None) as progress:
        while done < total_steps:
            record = step()
            done = record["step"]
            progress.update(1)
            progress.set_postfix(loss=f"{record['loss']:.4f}", mse=f"{record['mse']:.4f}")
            if done % log_every == 0 or done == total_steps:
                record["seconds"] = round(time.monotonic() - started, 2)
                log.write(json.dumps(record) + "\n")
                log.flush()
            if done % checkpoint_every == 0:
                save_checkpoint(run_dir, state())
            if max_seconds and time.monotonic() - started > max_seconds:
                _log.warning("max_seconds=%d reached at step %d of %d; stopping (resumable)",
                             max_seconds, done, total_steps)
                record.update(stopped_early=True, seconds=round(time.monotonic() - started, 2))
                log.write(json.dumps(record) + "\n")
                break
    save_checkpoint(run_dir, state())
    return record
