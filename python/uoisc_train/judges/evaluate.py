"""Accuracy of a VQA judge on the clean generated splits (what the model card reports).

Every scene carries one question per kind; the accuracy is over all
(scene, question) pairs of scenes ``0..n-1`` of a split's dataset stream with
seed :data:`EVAL_SEED`, and per question kind.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from uoisc_train.clip.evaluate import generate_scenes, images_to_tensor
from uoisc_train.judges.base import VqaJudge

__all__ = ["EVAL_SEED", "EVAL_SPLITS", "judge_accuracy", "judge_metrics"]

#: Dataset seed of the evaluation scenes (training uses small seeds; streams are disjoint).
EVAL_SEED = 999_999
#: Splits reported: the codec's test splits and held-out scenes of the judge's own split.
EVAL_SPLITS = ("test_seen", "test_zeroshot", "pretrain")


@torch.no_grad()
def judge_accuracy(judge: VqaJudge, split: str, n_scenes: int, seed: int = EVAL_SEED,
                   size: int = 64, batch: int = 256) -> dict[str, float]:
    """``{"accuracy": ..., "accuracy_<kind>": ..., "n_questions": ...}`` on clean scenes."""
    if isinstance(judge, torch.nn.Module):
        judge.eval()
    scenes = generate_scenes(split, n_scenes, seed, size)
    pairs = [(i, qa) for i, scene in enumerate(scenes) for qa in scene.qa]
    images = images_to_tensor(np.stack([s.image for s in scenes]))
    hits: dict[str, list[bool]] = defaultdict(list)
    for start in range(0, len(pairs), batch):
        chunk = pairs[start:start + batch]
        predicted = judge.answer(images[[i for i, _ in chunk]], [qa.question for _, qa in chunk])
        for (_, qa), answer in zip(chunk, predicted):
            hits[qa.kind].append(answer == qa.answer)
    metrics = {"n_questions": len(pairs),
               "accuracy": sum(sum(h) for h in hits.values()) / len(pairs)}
    metrics.update({f"accuracy_{kind}": sum(h) / len(h) for kind, h in sorted(hits.items())})
    return metrics


def judge_metrics(judge: VqaJudge, n_scenes: int, seed: int = EVAL_SEED, size: int = 64) -> dict:
    """:func:`judge_accuracy` on every split of :data:`EVAL_SPLITS`."""
    return {"n_scenes": n_scenes, "eval_seed": seed,
            **{split: judge_accuracy(judge, split, n_scenes, seed, size) for split in EVAL_SPLITS}}
