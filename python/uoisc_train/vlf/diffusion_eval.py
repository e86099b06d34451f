"""How well generated images keep the scene's meaning: the judge's answer match rate, and a sample grid.

For the first ``n`` scenes of a split (dataset seed :data:`EVAL_SEED`, disjoint from
training), the receiver generates an image from the scene's CLIP image embedding; the
tiny VQA judge answers the scene's *first* question on the original and on the generated
image, and the answer match rate is the fraction of identical answers (the UO-ISC paper's
metric). Two references put the number in context: the judge's accuracy on the originals,
and the match rate of each original against *another* scene's original (what an image
that carries no information about the scene would score).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from uoisc_train.clip.evaluate import EVAL_SEED, generate_scenes, images_to_tensor
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion

__all__ = ["EVAL_SEED", "clip_features", "answer_match", "sample_grid"]


@torch.no_grad()
def clip_features(backbone, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """``ClipBackbone.image_embedding`` of ``N x 3 x H x W`` images in [0, 1], in batches."""
    chunks = [backbone.image_embedding(backbone.normalize(images[start:start + batch]))
              for start in range(0, len(images), batch)]
    return torch.cat(chunks)


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
        ``unrelated_match_rate`` (original vs the next scene's original), ``n_scenes``.
    """
    scenes = generate_scenes(split, n_scenes, seed, model.config.image_size)
    originals = images_to_tensor(np.stack([s.image for s in scenes]))
    features = clip_features(backbone, originals)
    generated = torch.cat([model.sample(features[start:start + batch], steps, guidance,
                                        seed=sample_seed + start // batch)
                           for start in range(0, n_scenes, batch)])
    questions = [s.qa[0].question for s in scenes]
    truth = [s.qa[0].answer for s in scenes]
    before, after = judge.answer(originals, questions), judge.answer(generated, questions)
    unrelated = judge.answer(originals.roll(1, dims=0), questions)
    rate = lambda a, b: float(np.mean([x == y for x, y in zip(a, b)]))  # noqa: E731
    return {"answer_match_rate": rate(before, after), "judge_accuracy_original": rate(before, truth),
            "judge_accuracy_generated": rate(after, truth), "unrelated_match_rate": rate(before, unrelated),
            "n_scenes": n_scenes}


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
