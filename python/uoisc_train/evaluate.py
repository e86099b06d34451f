"""Clean-channel evaluation of a codec: MSE/PSNR and the judge's answer match rate.

For every scene of a split and every one of its questions, the image is
compressed *with that question* (the indices depend on the query through
FiLM), decoded from error-free indices, and the judge answers the same
question on the original and on the reconstruction. Answer match = the two
answers are identical (paper Section IV). Scenes come from the evaluation
seed stream (``EVAL_SEED``), never a training seed.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from uoisc_train.clip.evaluate import EVAL_SEED, generate_scenes, images_to_tensor
from uoisc_train.codec import UOISC

__all__ = ["evaluate_codec", "evaluate_splits", "evaluate_jpeg2000", "psnr_db", "main"]


def psnr_db(mse: float) -> float:
    """PSNR of images in [0, 1]: ``10 log10(1 / mse)`` (inf for a perfect copy)."""
    if mse < 0:
        raise ValueError(f"mse={mse!r} must be >= 0")
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


@torch.no_grad()
def evaluate_codec(model: UOISC, judge: Any, split: str, n_scenes: int, seed: int = EVAL_SEED,
                   batch_size: int = 64, device: str = "cpu") -> dict[str, Any]:
    """Metrics of ``model`` with error-free indices on ``n_scenes`` scenes of ``split``.

    Args:
        model: the codec (put in eval mode here).
        judge: a VQA judge (``answer(images, questions)``); ``None`` skips the answer match.
        split: world split, e.g. ``"test_seen"`` or ``"test_zeroshot"``.
        n_scenes: scenes, each with all of its questions.
        seed: dataset seed of the scenes.
        batch_size: (scene, question) pairs per forward pass.
        device: where to run.

    Returns:
        ``split``, ``n_pairs``, ``mse`` (mean over pairs and pixels), ``psnr_db``
        (of that mean MSE), ``answer_match_rate`` (or ``None`` without a judge)
        and the match rate per question ``kind``.
    """
    if n_scenes < 1 or batch_size < 1:
        raise ValueError(f"n_scenes={n_scenes} and batch_size={batch_size} must be >= 1")
    model.eval()
    scenes = generate_scenes(split, n_scenes, seed, size=model.config.image_size)
    pairs = [(i, qa) for i, scene in enumerate(scenes) for qa in scene.qa]
    images_all = images_to_tensor(np.stack([scene.image for scene in scenes]))
    squared_error, matches, kinds = 0.0, [], []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        images = images_all[[i for i, _ in chunk]].to(device)
        questions = [qa.question for _, qa in chunk]
        token_ids = model.backbone.tokenize(questions).to(torch.int64).to(device)
        x_hat = model.decompress(model.compress(images, token_ids))
        squared_error += float(((x_hat - images) ** 2).mean(dim=(1, 2, 3)).sum())
        if judge is not None:
            before, after = judge.answer(images, questions), judge.answer(x_hat, questions)
            matches += [a == b for a, b in zip(before, after)]
            kinds += [qa.kind for _, qa in chunk]
    mse = squared_error / len(pairs)
    result: dict[str, Any] = {"split": split, "n_scenes": n_scenes, "n_pairs": len(pairs),
                              "seed": seed, "mse": mse, "psnr_db": psnr_db(mse),
                              "answer_match_rate": None, "answer_match_by_kind": None}
    if judge is not None:
        result["answer_match_rate"] = float(np.mean(matches))
        result["answer_match_by_kind"] = {
            kind: float(np.mean([m for m, k in zip(matches, kinds) if k == kind]))
            for kind in sorted(set(kinds))}
    return result


@torch.no_grad()
def evaluate_jpeg2000(judge: Any, split: str, n_scenes: int, max_bytes: int,
                      seed: int = EVAL_SEED) -> dict[str, Any]:
    """Baseline (c) under the same protocol as :func:`evaluate_codec` (error-free bytes).

    Each scene is JPEG2000-coded once at ``max_bytes`` (the image does not depend on
    the question), then judged with each of its questions.
    """
    from uoisc_train.baselines.jpeg2000 import decode_jpeg2000, encode_jpeg2000
    scenes = generate_scenes(split, n_scenes, seed)
    size = scenes[0].image.shape[:2]
    originals = images_to_tensor(np.stack([s.image for s in scenes]))
    coded = [encode_jpeg2000(s.image, max_bytes) for s in scenes]
    decoded = images_to_tensor(np.stack([decode_jpeg2000(c.data, size) for c in coded]))
    rows = [i for i, scene in enumerate(scenes) for _ in scene.qa]
    questions = [qa.question for scene in scenes for qa in scene.qa]
    mse = float(((decoded - originals) ** 2).mean())
    before = judge.answer(originals[rows], questions)
    after = judge.answer(decoded[rows], questions)
    return {"split": split, "n_scenes": n_scenes, "n_pairs": len(rows), "seed": seed,
            "max_bytes": max_bytes, "mean_bytes": float(np.mean([c.n_bytes for c in coded])),
            "mse": mse, "psnr_db": psnr_db(mse),
            "answer_match_rate": float(np.mean([a == b for a, b in zip(before, after)]))}


def evaluate_splits(model: UOISC, judge: Any, n_scenes: int,
                    splits: tuple[str, ...] = ("test_seen", "test_zeroshot"),
                    device: str = "cpu") -> dict[str, dict[str, Any]]:
    """:func:`evaluate_codec` on each split, keyed by split name."""
    return {split: evaluate_codec(model, judge, split, n_scenes, device=device) for split in splits}


def main(argv: list[str] | None = None) -> int:
    """``python -m uoisc_train.evaluate -c RUN/last.pt [--judge tiny] [--scenes N] [-o FILE]``:
    the metrics of a training checkpoint as JSON (stdout, and ``-o`` if given)."""
    from uoisc_train.train import load_judge
    from uoisc_train.training import load_codec

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.evaluate",
                                     description="Clean-channel metrics of a codec checkpoint.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-c", "--checkpoint", required=True, help="training checkpoint (last.pt)")
    parser.add_argument("-j", "--judge", default="tiny", help="tiny, none or a judge folder")
    parser.add_argument("-n", "--scenes", type=int, default=100, help="scenes per split (5 questions each)")
    parser.add_argument("-t", "--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("-o", "--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.scenes < 1 or args.threads < 1:
        parser.error(f"--scenes={args.scenes} and --threads={args.threads} must be >= 1")
    torch.set_num_threads(args.threads)
    model, info = load_codec(args.checkpoint)
    metrics = {"checkpoint": str(args.checkpoint), "step": info["step"], "judge": args.judge,
               "splits": evaluate_splits(model, load_judge(args.judge), args.scenes)}
    text = json.dumps(metrics, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
