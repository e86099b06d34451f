"""Offline check of erasure-aware decoding: answer match vs the share of failed codewords.

Example::

    python -m uoisc_train.training.erasure_eval --source runs/uoisc-tiny-uoisc/last.pt \\
        --tuned runs/uoisc-tiny-uoisc-erasure/last.pt --scenes 100 -o results/erasure/offline.json

No PHY: for each (scene, question) pair of a split, exactly ``round(f * n_codewords)``
codewords of the frame fail (picked at random, ``codec.erasures``). The source decoder gets
uniformly random indices in their place (a stand-in for the hard bits of a failed codeword,
which are wrong but unknown), the erasure-aware one gets index K. The same masks and the same
random indices are used for both. It isolates the decoder; the real channel's figures come
from ``uoisc-eval`` (``results/erasure/``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Sequence

import numpy as np
import torch

from uoisc_train.clip.evaluate import generate_scenes, images_to_tensor
from uoisc_train.codec import UOISC
from uoisc_train.codec.erasures import DEFAULT_CW_DATA_BYTES, codeword_index_table, erase_codewords
from uoisc_train.evaluate import EVAL_SEED, psnr_db
from uoisc_train.runs import require_positive, run_cli
from uoisc_train.training.checkpoint import load_codec
from uoisc_train.training.erasure_finetune import decoder_input

__all__ = ["erasure_sweep", "main"]

_log = logging.getLogger("uoisc_train.erasure_eval")


@torch.no_grad()
def erasure_sweep(source: UOISC, tuned: UOISC, judge: Any, split: str, n_scenes: int,
                  fractions: Sequence[float], cw_data_bytes: int = DEFAULT_CW_DATA_BYTES,
                  seed: int = EVAL_SEED, mask_seed: int = 0) -> list[dict[str, Any]]:
    """Answer match rate and PSNR of both decoders at each share of failed codewords.

    Args:
        source: the codec without the erasure token (decodes random indices where erased).
        tuned: the same encoder with the erasure-aware decoder (decodes K where erased).
        judge: VQA judge with ``answer(images, questions)``.
        split: world split of the scenes.
        n_scenes: scenes (each with all its questions).
        fractions: shares of failed codewords, each in ``[0, 1]``.
        cw_data_bytes: frame bytes per codeword.
        seed: scene seed (the evaluation seed by default).
        mask_seed: seed of the masks and of the random indices.

    Returns:
        One dict per fraction: ``fraction``, ``n_failed_codewords``, ``n_pairs`` and, per
        decoder (``source``, ``tuned``), ``answer_match_rate`` and ``psnr_db``.
    """
    if tuned.config.erasure_index is None:
        raise ValueError("tuned has no erasure token")
    if any(not 0.0 <= f <= 1.0 for f in fractions):
        raise ValueError(f"fractions={list(fractions)!r} must lie in [0, 1]")
    scenes = generate_scenes(split, n_scenes, seed, size=tuned.config.image_size)
    rows = [i for i, scene in enumerate(scenes) for _ in scene.qa]
    questions = [qa.question for scene in scenes for qa in scene.qa]
    images = images_to_tensor(np.stack([scene.image for scene in scenes]))[rows]
    indices = tuned.compress(images, tuned.backbone.tokenize(questions).to(torch.int64))
    answers = judge.answer(images, questions)
    config = tuned.config
    table = codeword_index_table(config.n_indices, config.bits_per_index, cw_data_bytes)
    results = []
    for fraction in fractions:
        generator = torch.Generator().manual_seed(mask_seed)
        n_failed = round(fraction * table.shape[0])
        erased = erase_codewords(table, torch.full((len(rows),), n_failed), generator)
        garbage = torch.randint(0, config.codebook_size, indices.shape, generator=generator)
        inputs = {"source": torch.where(erased.reshape(indices.shape), garbage, indices),
                  "tuned": decoder_input(indices, erased, config.erasure_index)}
        point: dict[str, Any] = {"fraction": fraction, "n_failed_codewords": n_failed,
                                 "n_pairs": len(rows)}
        for name, model in (("source", source), ("tuned", tuned)):
            x_hat = model.decompress(inputs[name])
            matches = [a == b for a, b in zip(answers, judge.answer(x_hat, questions))]
            point[name] = {"answer_match_rate": float(np.mean(matches)),
                           "psnr_db": psnr_db(float(((x_hat - images) ** 2).mean()))}
        _log.info("%s", point)
        results.append(point)
    return results


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.training.erasure_eval",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--source", required=True, help="checkpoint without the erasure token")
    parser.add_argument("--tuned", required=True, help="erasure fine-tuned checkpoint")
    parser.add_argument("--split", default="test_zeroshot")
    parser.add_argument("-n", "--scenes", type=int, default=100, help="scenes (5 questions each)")
    parser.add_argument("-f", "--fractions", type=float, nargs="+",
                        default=[0.0, 0.1, 0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--cw-data-bytes", type=int, default=DEFAULT_CW_DATA_BYTES)
    parser.add_argument("-j", "--judge", default="tiny", help="tiny or a judge folder")
    parser.add_argument("-t", "--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("-o", "--out", default=None, help="also write the JSON here")
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    require_positive(parser, args, ["scenes", "threads", "cw_data_bytes"])


def _evaluate(args: argparse.Namespace, command: str) -> int:
    from uoisc_train.train import load_judge
    torch.set_num_threads(args.threads)
    source, source_info = load_codec(args.source)
    tuned, tuned_info = load_codec(args.tuned)
    try:
        points = erasure_sweep(source, tuned, load_judge(args.judge), args.split, args.scenes,
                               args.fractions, args.cw_data_bytes)
    except ValueError as error:
        _log.error("%s", error)
        return 2
    report = {"command": command, "split": args.split, "source_step": source_info["step"],
              "tuned_step": tuned_info["step"], "points": points}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    return run_cli(build_parser(), _check_args, _evaluate, argv)


if __name__ == "__main__":
    sys.exit(main())
