"""Train the UO-ISC codec (paper Section III): Phase I then Phase II, on the offline world.

Examples::

    # shipped tiny CLIP and judge, UO-ISC
    python -m uoisc_train.train -r runs/uoisc-tiny --set pretrained=models/uoisc-tiny-clip
    # baseline (a), no text alignment; more steps; noise-aware at a 1 % index error rate
    python -m uoisc_train.train -r runs/no-text --baseline no-text-alignment \\
        --set pretrained=models/uoisc-tiny-clip --set phase1_steps=600 --set index_error_rate=0.01
    # continue an interrupted run
    python -m uoisc_train.train -r runs/uoisc-tiny --set pretrained=models/uoisc-tiny-clip --resume

``--set KEY=VALUE`` takes a field of the codec config (``CodecConfig``) or of the
run settings (``TrainSettings``); values are JSON (``null``, ``true``, ``[2,4,6]``).
The run folder gets ``params.json`` (every argument, commit, machine),
``log.jsonl`` (one JSON record per ``log_every`` steps), ``last.pt`` (trainable
parts only, see ``training.checkpoint``) and, with ``eval_scenes > 0``, ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import torch

from uoisc_train.baselines.neural import BASELINES, baseline_overrides
from uoisc_train.runs import load_checkpoint, machine_description, prepare_run_dir, seed_everything
from uoisc_train.codec import CodecConfig, get_codec_config
from uoisc_train.evaluate import evaluate_splits
from uoisc_train.training import (SceneQuestionBatches, Trainer, TrainSettings, apply_overrides,
                                  build_codec, split_overrides)
from uoisc_train.training.loop import run_steps

__all__ = ["build_parser", "resolve_configs", "load_judge", "run_training", "main"]

_log = logging.getLogger("uoisc_train.train")
METRICS_NAME = "metrics.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.train",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-r", "--run-dir", required=True, help="run folder")
    config = parser.add_argument_group("configuration")
    config.add_argument("-c", "--config", default="uoisc-tiny",
                        help="codec config name (uoisc-tiny, uoisc-vit-b16) or JSON file")
    config.add_argument("-b", "--baseline", default="uoisc", choices=sorted(BASELINES),
                        help="paper baseline, applied as overrides before --set")
    config.add_argument("-s", "--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a codec config field or a training setting (repeatable)")
    run = parser.add_argument_group("run")
    run.add_argument("-d", "--device", default="auto", help="cpu, cuda, cuda:N or auto")
    run.add_argument("-t", "--threads", type=int, default=2, help="torch CPU threads")
    run.add_argument("--resume", action="store_true", help="continue from the run's last.pt")
    return parser


def resolve_configs(config: str, baseline: str, assignments: list[str]) -> tuple[CodecConfig, TrainSettings]:
    """Codec config and settings from a config name/file, a baseline and ``--set`` overrides."""
    codec_sets, train_sets = split_overrides(baseline_overrides(baseline) + list(assignments))
    codec = CodecConfig.from_dict(apply_overrides(get_codec_config(config).to_dict(), codec_sets))
    settings = TrainSettings.from_dict(apply_overrides(TrainSettings().to_dict(), train_sets))
    return codec, settings


def load_judge(name: str, device: str = "cpu"):
    """The judge of ``TrainSettings.judge``: frozen, eval mode, on ``device`` (None for ``"none"``)."""
    from uoisc_train.judges import TinyJudgeConfig, TinyVqaJudge, load_tiny_judge
    from uoisc_train.world import ANSWERS
    if name == "none":
        return None
    if name == "random-tiny":
        judge = TinyVqaJudge(TinyJudgeConfig(answers=tuple(ANSWERS))).requires_grad_(False).eval()
    elif name == "tiny":
        judge = load_tiny_judge()
    elif Path(name).is_dir():
        judge = load_tiny_judge(name)
    else:
        raise ValueError(f"judge={name!r} is neither 'tiny', 'random-tiny', 'none' nor a folder")
    return judge.to(device)


def _device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} but torch sees no CUDA device")
    if name != "cpu" and not name.startswith("cuda"):
        raise ValueError(f"device={name!r} must be cpu, cuda, cuda:N or auto")
    return name


def run_training(codec: CodecConfig, settings: TrainSettings, run_dir: str | Path,
                 device: str = "cpu", threads: int = 2, resume: bool = False,
                 params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train (or continue) a run; returns the last log record (and metrics when evaluated)."""
    torch.set_num_threads(threads)
    seed_everything(settings.seed)
    record_params = {"codec_config": codec.to_dict(), "settings": settings.to_dict(),
                     "device": device, "threads": threads, "resume": resume, **(params or {})}
    run_dir = prepare_run_dir(run_dir, record_params, resume)
    judge = load_judge(settings.judge, device)
    model = build_codec(codec, settings.train_backbone).to(device)
    batches = SceneQuestionBatches("train", settings.train_scenes, settings.data_seed,
                                   codec.image_size, model.backbone.tokenize)
    trainer = Trainer(model, settings, batches, judge if codec.lambda_relevance > 0 else None, device)
    if resume:
        state = load_checkpoint(run_dir)
        if state is None:
            raise ValueError(f"--resume but {run_dir} holds no checkpoint")
        trainer.load_state(state)
    record = run_steps(trainer.train_step, trainer.state, run_dir, trainer.step,
                       settings.total_steps, settings.log_every, settings.checkpoint_every,
                       settings.max_seconds)
    if settings.eval_scenes:
        metrics = {"step": trainer.step, "machine": machine_description(),
                   "splits": evaluate_splits(model, judge, settings.eval_scenes, device=device)}
        (run_dir / METRICS_NAME).write_text(json.dumps(metrics, indent=2) + "\n")
        record["metrics"] = metrics
    return record


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (``uoisc-train``); returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    try:
        codec, settings = resolve_configs(args.config, args.baseline, args.set)
        device = _device(args.device)
    except ValueError as error:
        parser.error(str(error))
    params = {"config": args.config, "baseline": args.baseline, "set": list(args.set)}
    try:
        record = run_training(codec, settings, args.run_dir, device, args.threads, args.resume, params)
    except ValueError as error:  # bad run folder, resume mismatch, missing judge, ...
        _log.error("%s", error)
        return 2
    _log.info("finished at step %d: %s", record["step"],
              {k: v for k, v in record.items() if k != "metrics"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
