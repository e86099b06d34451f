"""Training of the tiny VQA judge on generated VQA of all families (``pretrain`` split).

Example (the shipped model, see ``models/uoisc-tiny-judge/MODEL_CARD.md``)::

    python -m uoisc_train.judges.train --run-dir runs/tiny-judge --export models/uoisc-tiny-judge

The judge plays nanoLLaVA, which saw everything: it trains on scenes and
questions of every family, the held-out one included, and is then evaluated
on clean ``test_seen`` and ``test_zeroshot`` scenes from another seed stream.
Scenes are generated once into memory; every scene carries one question per
kind. Light Gaussian pixel noise is added during training so that the judge
does not key on exact colour values (it later judges reconstructions). An
auxiliary per-cell shape loss on the generator's label maps teaches the shape
detectors that answer-only supervision learns far more slowly.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from uoisc_train.clip.evaluate import generate_scenes
from uoisc_train.runs import (add_model_run_arguments, add_run_dir_argument, fp16_rounded_copy,
                              prepare_run_dir, provenance, record_metrics, require_positive,
                              resume_epoch_training, run_cli, save_checkpoint, seed_everything,
                              warmup_cosine_lr)
from uoisc_train.judges.evaluate import judge_metrics
from uoisc_train.judges.tiny_vqa import TinyJudgeConfig, TinyVqaJudge
from uoisc_train.judges.tiny import save_judge_artefact
from uoisc_train.world import ANSWERS, GENERATOR_VERSION, PRETRAIN_SPLIT, SHAPES, answer_index

_log = logging.getLogger("uoisc_train.judges.train")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m uoisc_train.judges.train", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_dir_argument(parser)
    data = parser.add_argument_group("data")
    data.add_argument("--train-scenes", type=int, default=32000, help="pretrain scenes (5 questions each)")
    data.add_argument("--data-seed", type=int, default=0, help="dataset seed of the training scenes")
    data.add_argument("--image-size", type=int, default=64)
    data.add_argument("--noise-std", type=float, default=0.03, help="max std of pixel noise in [0,1] units")
    model = parser.add_argument_group("model")
    model.add_argument("--width", type=int, default=96)
    model.add_argument("--text-width", type=int, default=64)
    model.add_argument("--film-blocks", type=int, default=3)
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("-e", "--epochs", type=int, default=3, help="passes over all (scene, question) pairs")
    optim.add_argument("-b", "--batch-size", type=int, default=128)
    optim.add_argument("--lr", type=float, default=2e-3)
    optim.add_argument("--weight-decay", type=float, default=0.01)
    optim.add_argument("--warmup-steps", type=int, default=200)
    optim.add_argument("--seed", type=int, default=0, help="seed of init, batch order and noise")
    optim.add_argument("--shape-loss-weight", type=float, default=1.0,
                       help="weight of the auxiliary per-cell shape loss (0: no auxiliary head)")
    run = parser.add_argument_group("run")
    run.add_argument("--eval-scenes", type=int, default=400, help="scenes per evaluation split")
    add_model_run_arguments(run)
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    require_positive(parser, args, ("train_scenes", "epochs", "batch_size", "eval_scenes", "threads"))
    if args.shape_loss_weight < 0:
        parser.error(f"--shape-loss-weight must be >= 0, got {args.shape_loss_weight}")
    if not 0 <= args.noise_std < 0.5:
        parser.error(f"--noise-std must be in [0, 0.5), got {args.noise_std}")


def shape_cell_targets(scene, shapes: Sequence[str], stride: int = 4) -> np.ndarray:
    """Shape class at the centre of each ``stride x stride`` cell (0: background, 1+i: ``shapes[i]``).

    Uses the generator's label map (visible object index per pixel, -1 for background).
    """
    lookup = np.array([0] + [1 + shapes.index(o.shape) for o in scene.objects], dtype=np.int64)
    centre = stride // 2
    return lookup[scene.label[centre::stride, centre::stride] + 1]


def _training_tensors(args, judge: TinyVqaJudge):
    """Images (uint8 S x 3 x H x W), shape-cell targets (S x H/4 x W/4) and, per
    (scene, question) pair: scene index, tokens, answer."""
    scenes = generate_scenes(PRETRAIN_SPLIT, args.train_scenes, args.data_seed, args.image_size)
    images = torch.from_numpy(np.stack([s.image for s in scenes])).permute(0, 3, 1, 2).contiguous()
    shape_targets = torch.from_numpy(np.stack([shape_cell_targets(s, SHAPES) for s in scenes]))
    pairs = [(i, qa) for i, scene in enumerate(scenes) for qa in scene.qa]
    scene_index = torch.tensor([i for i, _ in pairs])
    tokens = judge.tokenize([qa.question for _, qa in pairs])
    answers = torch.tensor([answer_index(qa.answer) for _, qa in pairs])
    return images, shape_targets, scene_index, tokens, answers


def train(args: argparse.Namespace, command: str) -> dict:
    """Run (or resume) a judge training; return the final metrics.

    Args:
        args: parsed command-line arguments.
        command: the command line, recorded in the model folder.
    """
    torch.set_num_threads(args.threads)
    run_dir = prepare_run_dir(args.run_dir, vars(args), args.resume)
    seed_everything(args.seed)
    config = TinyJudgeConfig(answers=tuple(ANSWERS), image_size=args.image_size, width=args.width,
                             text_width=args.text_width, film_blocks=args.film_blocks,
                             shapes=tuple(SHAPES) if args.shape_loss_weight > 0 else ())
    judge = TinyVqaJudge(config)
    optimizer = torch.optim.AdamW(judge.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    start_epoch, elapsed = resume_epoch_training(run_dir, args.resume, judge, optimizer)

    started = time.monotonic()
    images, shape_targets, scene_index, tokens, answers = _training_tensors(args, judge)
    use_shape_loss = args.shape_loss_weight > 0
    n_pairs = len(answers)
    steps_per_epoch = n_pairs // args.batch_size
    total_steps = steps_per_epoch * args.epochs
    for epoch in range(start_epoch, args.epochs):
        judge.train()
        generator = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        order = torch.randperm(n_pairs, generator=generator)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{args.epochs}", mininterval=10)
        correct = seen = 0
        for step_in_epoch in bar:
            step = epoch * steps_per_epoch + step_in_epoch
            for group in optimizer.param_groups:
                group["lr"] = warmup_cosine_lr(step, total_steps, args.lr, args.warmup_steps)
            batch = order[step_in_epoch * args.batch_size:(step_in_epoch + 1) * args.batch_size]
            pixels = images[scene_index[batch]].float() / 255.0
            noise_std = torch.rand(len(batch), 1, 1, 1, generator=generator) * args.noise_std
            pixels = (pixels + noise_std * torch.randn(pixels.shape, generator=generator)).clamp(0, 1)
            out = judge(pixels, tokens[batch], with_shape_logits=use_shape_loss)
            logits = out["logits"]
            loss = F.cross_entropy(logits, answers[batch])
            if use_shape_loss:
                cells = shape_targets[scene_index[batch]]
                loss = loss + args.shape_loss_weight * F.cross_entropy(out["shape_logits"], cells)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            correct += (logits.argmax(-1) == answers[batch]).sum().item()
            seen += len(batch)
            bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{correct / seen:.3f}", refresh=False)
        save_checkpoint(run_dir, {"model": judge.state_dict(), "optimizer": optimizer.state_dict(),
                                  "epoch": epoch, "elapsed_s": elapsed + time.monotonic() - started})
        _log.info("epoch %d done, train accuracy %.4f", epoch + 1, correct / seen)
    train_wall_s = elapsed + time.monotonic() - started

    shipped = fp16_rounded_copy(judge)
    metrics = judge_metrics(shipped, args.eval_scenes, size=args.image_size)
    record_metrics(run_dir, metrics, train_wall_s)
    if args.export:
        data = {"split": PRETRAIN_SPLIT, "train_scenes": args.train_scenes,
                "questions_per_scene": len(answers) // args.train_scenes,
                "data_seed": args.data_seed, "image_size": args.image_size,
                "generator_version": GENERATOR_VERSION}
        save_judge_artefact(args.export, shipped, provenance(data, command, args, train_wall_s), metrics)
    return metrics


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the final metrics (for tests)."""
    return run_cli(build_parser(), _check_args, train, argv)


if __name__ == "__main__":
    main()
