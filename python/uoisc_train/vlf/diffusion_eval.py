"""How well generated images keep the scene's meaning: judge answer match, CLIP alignment, sample grids.

For the first ``n`` scenes of a split (dataset seed :data:`EVAL_SEED`, disjoint from
training), the receiver generates an image from the scene's CLIP image embedding; the
tiny VQA judge answers the scene's *first* question on the original and on the generated
image, and the answer match rate is the fraction of identical answers (the UO-ISC paper's
metric). Two references put the number in context: the judge's accuracy on the originals,
and the match rate of each original against *another* scene's original (what an image
that carries no information about the scene would score). CLIP alignment asks whether the
generated image, seen by the transmitter's CLIP, still points to the feature it came from:
the mean cosine between its embedding and the sent feature (``clip_cosine``), the same with
the other scenes' features (``clip_cosine_unrelated``), and top-1 retrieval of its own feature
among the ``n`` scenes' (``clip_retrieval_top1``, chance ``1/n``).

Command line (re-evaluates a model folder, prints or writes JSON)::

    python -m uoisc_train.vlf.diffusion_eval models/uoisc-tiny-vlf-generator --out metrics.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from uoisc_train.clip.evaluate import EVAL_SEED, generate_scenes, images_to_tensor
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion
from uoisc_train.vlf.scene_features import embed_images

__all__ = ["EVAL_SEED", "EVAL_SPLITS", "answer_match", "evaluate_generator",
           "sample_grid", "main"]

#: Splits the generator is evaluated on (the codec's test splits).
EVAL_SPLITS = ("test_zeroshot", "test_seen")


@torch.no_grad()
def answer_match(model: FeatureToImageDiffusion, backbone, judge, split: str, n_scenes: int,
                 steps: int, guidance: float, seed: int = EVAL_SEED, sample_seed: int = 0,
                 batch: int = 50) -> dict[str, float]:
    """Answer match rate of generated vs original images on a split's first question per scene.

    Args:
        model: the generator (eval mode).
        backbone: the ``ClipBackbone`` that makes the features (the transmitter's CLIP).
        judge: a ``VqaJudge``.
        split, n_scenes, seed: which scenes (``generate_scenes(split, n_scenes, seed)``).
        steps, guidance: DDIM steps and guidance scale.
        sample_seed: seed of the sampling noise (batch ``b`` uses ``sample_seed + b``).
        batch: images generated at once.

    Returns:
        ``answer_match_rate``, ``judge_accuracy_original``, ``judge_accuracy_generated``,
        ``unrelated_match_rate`` (original vs the next scene's original), the CLIP
        alignment fields of the module docstring, ``n_scenes``.
    """
    scenes = generate_scenes(split, n_scenes, seed, model.config.image_size)
    originals = images_to_tensor(np.stack([s.image for s in scenes]))
    features = embed_images(backbone, originals)
    generated = torch.cat([model.sample(features[start:start + batch], steps, guidance,
                                        seed=sample_seed + start // batch)
                           for start in range(0, n_scenes, batch)])
    questions = [s.qa[0].question for s in scenes]
    truth = [s.qa[0].answer for s in scenes]
    before, after = judge.answer(originals, questions), judge.answer(generated, questions)
    unrelated = judge.answer(originals.roll(1, dims=0), questions)
    rate = lambda a, b: float(np.mean([x == y for x, y in zip(a, b)]))  # noqa: E731
    cosine = embed_images(backbone, generated) @ features.T  # generated x sent, N x N
    off_diagonal = ~torch.eye(n_scenes, dtype=torch.bool)
    return {"answer_match_rate": rate(before, after), "judge_accuracy_original": rate(before, truth),
            "judge_accuracy_generated": rate(after, truth), "unrelated_match_rate": rate(before, unrelated),
            "clip_cosine": float(cosine.diagonal().mean()),
            "clip_cosine_unrelated": float(cosine[off_diagonal].mean()) if n_scenes > 1 else None,
            "clip_retrieval_top1": float((cosine.argmax(dim=1) == torch.arange(n_scenes)).float().mean()),
            "n_scenes": n_scenes}


def evaluate_generator(model: FeatureToImageDiffusion, backbone, judge, n_scenes: int, steps: int,
                       guidances: Sequence[float]) -> dict:
    """:func:`answer_match` on every split of :data:`EVAL_SPLITS` and every guidance scale."""
    return {split: {f"guidance_{g:g}": answer_match(model, backbone, judge, split, n_scenes, steps, g)
                    for g in guidances}
            for split in EVAL_SPLITS}


def sample_grid(rows: Sequence[torch.Tensor], gap: int = 2) -> Image.Image:
    """One RGB image with a row per ``N x 3 x H x W`` tensor in [0, 1] (all the same shape)."""
    if not rows or any(r.shape != rows[0].shape or r.ndim != 4 for r in rows):
        raise ValueError(f"rows must be equal-shaped N x 3 x H x W tensors, got "
                         f"{[tuple(r.shape) for r in rows]}")
    n, _, h, w = rows[0].shape
    canvas = np.full((len(rows) * (h + gap) - gap, n * (w + gap) - gap, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        pixels = (row.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
        for j in range(n):
            canvas[i * (h + gap):i * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = pixels[j]
    return Image.fromarray(canvas)


def main(argv: list[str] | None = None) -> dict:
    """Re-evaluate a generator model folder; returns (and prints or writes) the metrics."""
    from uoisc_train.clip import load_tiny_clip
    from uoisc_train.judges import load_tiny_judge
    from uoisc_train.vlf.diffusion_artefact import load_generator
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.vlf.diffusion_eval",
                                     description="Judge answer match and CLIP alignment of a VLF generator.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("model_dir", help="generator model folder")
    parser.add_argument("--clip", default=None, help="CLIP model folder (default: shipped tiny CLIP)")
    parser.add_argument("--scenes", type=int, default=100, help="scenes per split")
    parser.add_argument("--steps", type=int, default=10, help="DDIM steps")
    parser.add_argument("--guidance", type=float, nargs="+", default=[1.0, 3.0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="write the JSON here (default: stdout)")
    args = parser.parse_args(argv)
    if args.scenes < 1 or args.steps < 1 or args.threads < 1:
        parser.error("--scenes, --steps and --threads must be >= 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    metrics = {"n_scenes": args.scenes, "eval_steps": args.steps, "eval_seed": EVAL_SEED,
               "eval": evaluate_generator(load_generator(args.model_dir), load_tiny_clip(directory=args.clip),
                                          load_tiny_judge(), args.scenes, args.steps, args.guidance)}
    text = json.dumps(metrics, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return metrics


if __name__ == "__main__":
    main()
