"""Train the VLF-MSC image receiver (feature-conditioned DDPM) on the offline world.

Example (the short CPU run of ``models/uoisc-tiny-vlf-generator/MODEL_CARD.md``)::

    python -m uoisc_train.vlf.train_generator -r runs/vlf-generator --train-scenes 3000 \\
        --steps 800 --max-seconds 600 --export models/uoisc-tiny-vlf-generator \\
        --figure docs/figures/vlf_generator_samples.png

Pairs are (``ClipBackbone.image_embedding`` of a ``train`` scene + Gaussian noise that
stands in for the transmitter's quantisation error, the scene image). Scenes and their
features are computed once into memory. The weights evaluated and exported are an
exponential moving average of the trained ones (the DDPM habit: EMA samples are far
cleaner than the raw weights'). ``--set KEY=VALUE`` overrides a ``DiffusionConfig`` field
(JSON values). The run folder gets ``params.json``, ``log.jsonl``, ``last.pt`` and
``metrics.json``; ``--resume`` continues an interrupted run.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from uoisc_train.clip import load_tiny_clip, tiny_clip_dir
from uoisc_train.clip.evaluate import generate_scenes, images_to_tensor
from uoisc_train.judges import load_tiny_judge
from uoisc_train.runs import (add_model_run_arguments, add_run_dir_argument, fp16_rounded_copy,
                              load_checkpoint, prepare_run_dir, provenance, record_metrics, require_positive,
                              run_cli, save_checkpoint, seed_everything, warmup_cosine_lr)
from uoisc_train.training.config import apply_overrides
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion
from uoisc_train.vlf.diffusion_artefact import save_generator_artefact
from uoisc_train.vlf.diffusion_config import DiffusionConfig
from uoisc_train.vlf.diffusion_eval import evaluate_generator, sample_grid
from uoisc_train.vlf.scene_features import embed_images
from uoisc_train.world import GENERATOR_VERSION

__all__ = ["build_parser", "train", "main"]

_log = logging.getLogger("uoisc_train.vlf.train_generator")
LOG_NAME = "log.jsonl"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m uoisc_train.vlf.train_generator", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_dir_argument(parser)
    model = parser.add_argument_group("model")
    model.add_argument("-c", "--config", default=None, help="DiffusionConfig JSON file (default: the tiny one)")
    model.add_argument("-s", "--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a DiffusionConfig field (repeatable)")
    data = parser.add_argument_group("data")
    data.add_argument("--clip", default=None, help="CLIP model folder making the features (default: shipped tiny CLIP)")
    data.add_argument("--train-scenes", type=int, default=3000, help="scenes of the train split")
    data.add_argument("--data-seed", type=int, default=0, help="dataset seed of the training scenes")
    data.add_argument("--feature-noise-std", type=float, default=0.02,
                      help="std of the Gaussian noise added to each feature component (quantisation stand-in)")
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--steps", type=int, default=800)
    optim.add_argument("-b", "--batch-size", type=int, default=32)
    optim.add_argument("--lr", type=float, default=1e-3)
    optim.add_argument("--warmup-steps", type=int, default=50)
    optim.add_argument("--ema-decay", type=float, default=0.995, help="decay of the weights' moving average")
    optim.add_argument("--seed", type=int, default=0, help="seed of init, batches, timesteps and noise")
    run = parser.add_argument_group("run")
    run.add_argument("--max-seconds", type=float, default=0, help="stop training after this long (0: no limit)")
    run.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints")
    run.add_argument("--log-every", type=int, default=20, help="steps between log.jsonl records")
    run.add_argument("--eval-scenes", type=int, default=100, help="scenes per evaluation split (0: none)")
    run.add_argument("--eval-steps", type=int, default=10, help="DDIM steps of the evaluation")
    run.add_argument("--guidance", type=float, nargs="+", default=[1.0, 3.0], help="guidance scales evaluated")
    run.add_argument("--figure", default=None, help="write a PNG grid of samples here")
    run.add_argument("-d", "--device", default="cpu", help="cpu, cuda or cuda:N")
    add_model_run_arguments(run)
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    require_positive(parser, args, ("train_scenes", "steps", "batch_size", "threads", "checkpoint_every", "log_every",
                 "eval_steps"))
    if args.eval_scenes < 0 or args.max_seconds < 0 or args.feature_noise_std < 0:
        parser.error("--eval-scenes, --max-seconds and --feature-noise-std must be >= 0")
    if not 0 < args.ema_decay < 1:
        parser.error(f"--ema-decay must be in (0, 1), got {args.ema_decay}")
    if args.device != "cpu" and not (args.device.startswith("cuda") and torch.cuda.is_available()):
        parser.error(f"--device {args.device}: only cpu, or cuda when torch sees a GPU")
    if any(g < 0 for g in args.guidance):
        parser.error(f"--guidance values must be >= 0, got {args.guidance}")
    try:
        _diffusion_config(args.config, args.set)
    except (ValueError, OSError) as error:
        parser.error(str(error))


def _diffusion_config(path: str | None, assignments: list[str]) -> DiffusionConfig:
    base = DiffusionConfig.from_json(Path(path).read_text()) if path else DiffusionConfig()
    return DiffusionConfig.from_dict(apply_overrides(base.to_dict(), assignments))


def _training_pairs(args, backbone, image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Scene images (uint8 ``S x 3 x H x W``) and their clean CLIP features (``S x E``)."""
    scenes = generate_scenes("train", args.train_scenes, args.data_seed, image_size)
    images = torch.from_numpy(np.stack([s.image for s in scenes])).permute(0, 3, 1, 2).contiguous()
    return images, embed_images(backbone, images.float() / 255.0)


@torch.no_grad()
def _update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for average, current in zip(ema.parameters(), model.parameters()):
        average.lerp_(current, 1 - decay)


def _write_figure(model, backbone, args, n: int = 8) -> None:
    """Rows: originals of ``test_zeroshot``, then one row of samples per guidance scale."""
    scenes = generate_scenes("test_zeroshot", n, 999_999, model.config.image_size)
    originals = images_to_tensor(np.stack([s.image for s in scenes]))
    features = embed_images(backbone, originals)
    rows = [originals] + [model.sample(features, args.eval_steps, g, seed=0) for g in args.guidance]
    sample_grid(rows).save(args.figure)
    _log.info("sample grid written to %s (rows: originals, guidance %s)", args.figure, args.guidance)


def train(args: argparse.Namespace, command: str) -> dict:
    """Run (or resume) a generator training; return the metrics of the EMA weights as shipped.

    Args:
        args: parsed command-line arguments.
        command: the command line, recorded in the model folder.
    """
    torch.set_num_threads(args.threads)
    config = _diffusion_config(args.config, args.set)
    run_dir = prepare_run_dir(args.run_dir, {**vars(args), "diffusion_config": config.to_dict()},
                              args.resume)
    seed_everything(args.seed)
    backbone = load_tiny_clip(directory=args.clip)
    if backbone.embed_dim != config.feature_dim:
        raise ValueError(f"the CLIP makes {backbone.embed_dim}-d features, config feature_dim="
                         f"{config.feature_dim}")
    model = FeatureToImageDiffusion(config).to(args.device)
    ema = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(args.seed)
    step, elapsed = 0, 0.0
    checkpoint = load_checkpoint(run_dir) if args.resume else None
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])  # the checkpoint is on the CPU; load_state_dict copies
        ema.load_state_dict(checkpoint["ema"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        generator.set_state(checkpoint["generator"])
        step, elapsed = checkpoint["step"], checkpoint["elapsed_s"]

    def state() -> dict:
        return {"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(), "step": step,
                "elapsed_s": elapsed + time.monotonic() - started}

    images, features = (t.to(args.device) for t in _training_pairs(args, backbone, config.image_size))
    started = time.monotonic()
    model.train()
    with open(run_dir / LOG_NAME, "a") as log, \
            tqdm(total=args.steps, initial=step, mininterval=10, disable=None) as bar:
        while step < args.steps:
            if args.max_seconds and elapsed + time.monotonic() - started > args.max_seconds:
                _log.warning("--max-seconds %g reached at step %d of %d (resumable)",
                             args.max_seconds, step, args.steps)
                break
            for group in optimizer.param_groups:
                group["lr"] = warmup_cosine_lr(step, args.steps, args.lr, args.warmup_steps)
            batch = torch.randint(0, len(images), (args.batch_size,), generator=generator).to(args.device)
            noisy_features = features[batch] + args.feature_noise_std * torch.randn(
                features[batch].shape, generator=generator).to(args.device)
            loss = model(images[batch].float() / 255.0, noisy_features, generator)["loss"]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            # Warm-up of the average: early weights are forgotten quickly (as in diffusers' EMAModel).
            _update_ema(ema, model, min(args.ema_decay, (1 + step) / (10 + step)))
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
            if step % args.log_every == 0 or step == args.steps:
                log.write(json.dumps({"step": step, "loss": round(loss.item(), 5),
                                      "seconds": round(elapsed + time.monotonic() - started, 1)}) + "\n")
                log.flush()
            if step % args.checkpoint_every == 0:
                save_checkpoint(run_dir, state())
    save_checkpoint(run_dir, state())
    train_wall_s = elapsed + time.monotonic() - started

    shipped = fp16_rounded_copy(ema).cpu()
    metrics = {"step": step, "steps_planned": args.steps}
    if args.eval_scenes:
        started_eval = time.monotonic()
        metrics.update(eval_steps=args.eval_steps,
                       eval=evaluate_generator(shipped, backbone, load_tiny_judge(), args.eval_scenes,
                                               args.eval_steps, args.guidance))
        metrics["eval_wall_s"] = round(time.monotonic() - started_eval, 1)
    record_metrics(run_dir, metrics, train_wall_s)
    if args.figure:
        _write_figure(shipped, backbone, args)
    if args.export:
        data = {"split": "train", "train_scenes": args.train_scenes, "data_seed": args.data_seed,
                "image_size": config.image_size, "generator_version": GENERATOR_VERSION,
                "feature": {"clip": str(args.clip or tiny_clip_dir().name),
                            "embedding": "ClipBackbone.image_embedding", "embed_dim": backbone.embed_dim,
                            "feature_noise_std": args.feature_noise_std}}
        save_generator_artefact(args.export, shipped, provenance(data, command, args, train_wall_s), metrics)
    return metrics


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the final metrics (for tests)."""
    return run_cli(build_parser(), _check_args, train, argv)


if __name__ == "__main__":
    main()
