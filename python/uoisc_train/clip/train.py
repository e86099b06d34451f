"""Contrastive pretraining of a CLIP config on generated scenes (``pretrain`` split: all families).

Example (the shipped model, see ``models/uoisc-tiny-clip/MODEL_CARD.md``)::

    python -m uoisc_train.clip.train --run-dir runs/tiny-clip --export models/uoisc-tiny-clip

The scenes are generated once into memory (uint8) and reused each epoch in a
seeded order, so a run is a pure function of its arguments. A checkpoint is
written after every epoch; ``--resume`` continues from it.
"""

from __future__ import annotations

import argparse
import logging
import math
import time

import numpy as np
import torch
from tqdm import tqdm

from uoisc_train.clip.evaluate import clip_zero_shot_metrics, generate_scenes
from uoisc_train.clip.registry import TINY_CLIP_NAME, register_model_configs
from uoisc_train.runs import (add_model_run_arguments, add_run_dir_argument, fp16_rounded_copy,
                              prepare_run_dir, provenance, record_metrics, require_positive,
                              resume_epoch_training, run_cli, save_checkpoint, seed_everything,
                              warmup_cosine_lr)
from uoisc_train.clip.tiny import save_clip_artefact
from uoisc_train.compat import import_open_clip
from uoisc_train.world import GENERATOR_VERSION

_log = logging.getLogger("uoisc_train.clip.train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m uoisc_train.clip.train", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_dir_argument(parser)
    parser.add_argument("-m", "--model", default=TINY_CLIP_NAME, help="open_clip config name")
    data = parser.add_argument_group("data")
    data.add_argument("--train-scenes", type=int, default=10000, help="pretrain scenes generated")
    data.add_argument("--data-seed", type=int, default=0, help="dataset seed of the training scenes")
    data.add_argument("--image-size", type=int, default=64)
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("-e", "--epochs", type=int, default=4)
    optim.add_argument("-b", "--batch-size", type=int, default=128)
    optim.add_argument("--lr", type=float, default=1e-3)
    optim.add_argument("--weight-decay", type=float, default=0.1)
    optim.add_argument("--warmup-steps", type=int, default=100)
    optim.add_argument("--seed", type=int, default=0, help="seed of init and batch order")
    run = parser.add_argument_group("run")
    run.add_argument("--eval-scenes", type=int, default=500, help="scenes per evaluation split")
    add_model_run_arguments(run)
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    require_positive(parser, args, ("train_scenes", "epochs", "batch_size", "eval_scenes", "threads"))
    if args.batch_size > args.train_scenes:
        parser.error(f"--batch-size {args.batch_size} exceeds --train-scenes {args.train_scenes}")


def _training_tensors(args, tokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    """All training images (uint8 N x 3 x H x W) and caption tokens (N x L)."""
    scenes = generate_scenes("pretrain", args.train_scenes, args.data_seed, args.image_size)
    images = torch.from_numpy(np.stack([s.image for s in scenes])).permute(0, 3, 1, 2).contiguous()
    tokens = tokenizer([s.caption for s in scenes])
    return images, tokens


def train(args: argparse.Namespace, command: str) -> dict:
    """Run (or resume) a pretraining; return the final metrics.

    Args:
        args: parsed command-line arguments.
        command: the command line, recorded in the model folder.
    """
    torch.set_num_threads(args.threads)
    open_clip = import_open_clip()
    register_model_configs()
    run_dir = prepare_run_dir(args.run_dir, vars(args), args.resume)
    seed_everything(args.seed)
    model = open_clip.create_model(args.model, pretrained=None)
    tokenizer = open_clip.get_tokenizer(args.model)
    loss_fn = open_clip.ClipLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    start_epoch, elapsed = resume_epoch_training(run_dir, args.resume, model, optimizer)

    started = time.monotonic()
    images, tokens = _training_tensors(args, tokenizer)
    mean = torch.tensor(model.visual.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(model.visual.image_std).view(1, 3, 1, 1)
    steps_per_epoch = args.train_scenes // args.batch_size
    total_steps = steps_per_epoch * args.epochs
    for epoch in range(start_epoch, args.epochs):
        model.train()
        order = torch.randperm(args.train_scenes, generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{args.epochs}", mininterval=10)
        for step_in_epoch in bar:
            step = epoch * steps_per_epoch + step_in_epoch
            for group in optimizer.param_groups:
                group["lr"] = warmup_cosine_lr(step, total_steps, args.lr, args.warmup_steps)
            batch = order[step_in_epoch * args.batch_size:(step_in_epoch + 1) * args.batch_size]
            pixels = (images[batch].float() / 255.0 - mean) / std
            image_features, text_features, logit_scale = model(pixels, tokens[batch])
            loss = loss_fn(image_features, text_features, logit_scale)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():  # CLIP's clamp: temperature at most 100
                model.logit_scale.clamp_(0, math.log(100))
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        save_checkpoint(run_dir, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                  "epoch": epoch, "elapsed_s": elapsed + time.monotonic() - started})
        _log.info("epoch %d done, loss %.4f", epoch + 1, loss.item())
    train_wall_s = elapsed + time.monotonic() - started

    shipped = fp16_rounded_copy(model)
    metrics = clip_zero_shot_metrics(shipped, tokenizer, args.eval_scenes, size=args.image_size)
    record_metrics(run_dir, metrics, train_wall_s)
    if args.export:
        data = {"split": "pretrain", "train_scenes": args.train_scenes, "data_seed": args.data_seed,
                "image_size": args.image_size, "generator_version": GENERATOR_VERSION}
        save_clip_artefact(args.export, shipped, args.model,
                           provenance(data, command, args, train_wall_s), metrics)
    return metrics


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the final metrics (for tests)."""
    return run_cli(build_parser(), _check_args, train, argv)


if __name__ == "__main__":
    main()
