#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Scores of reconstructions against their originals, the paper's way (Section IV).

- **Answer match** (the paper's metric): the judge's answer on the reconstruction
  equals its answer on the original, same query.
- **Accuracy**: the judge's answer on the reconstruction equals the generator's
  ground truth (and, for reference, its accuracy on the originals).
- **User-intent relevance loss** (eq. 11): mean cosine distance of the judge's
  fused hidden states for original and reconstruction, same query.
- **PSNR** of the received images (peak 255, from their mean MSE).

An image the link lost counts as a mid-grey reconstruction (value 128) for the
answer match, accuracy and relevance loss: the user asked and got nothing, so
the judge answers on an empty picture. It is left out of the PSNR, which
describes the images that did arrive.

Nothing here knows about GNU Radio: a "system" is anything that turns the
originals into reconstructions (or None), so the tests score an identity and
a constant-grey codec with the same code.
"""


import numpy as np
import torch

from gnuradio.uoisc.io.sink_records import mse, psnr_from_mse
from uoisc_train.judges import cosine_relevance_loss

#: Pixel value of the stand-in for a lost image.
LOST_GREY = 128


def stand_in(reconstruction, shape):
    """``reconstruction``, or a mid-grey image of ``shape`` when it was lost (None)."""
    if reconstruction is None:
        return np.full(shape, LOST_GREY, dtype=np.uint8)
    return reconstruction


def _to_tensor(images):
    """N×H×W×3 uint8 -> N×3×H×W float in [0, 1] (what the judges take)."""
    return torch.from_numpy(np.ascontiguousarray(np.stack(images))).permute(0, 3, 1, 2).float() / 255.0


@torch.no_grad()
def score_pairs(pairs, reconstructions, judge, batch_size=64):
    """One score dict per pair.

    Args:
        pairs: :class:`~gnuradio.uoisc.apps.eval_pairs.EvalPair` s (original, question, answer).
        reconstructions: one H×W×3 uint8 array per pair, or None for a lost image.
        judge: a ``uoisc_train.judges.VqaJudge`` (``answer`` and ``hidden``).
        batch_size: pairs per judge call.

    Returns:
        list of dicts: ``image_id``, ``kind``, ``question``, ``answer`` (ground truth),
        ``answer_original``, ``answer_reconstruction``, ``match``, ``correct``,
        ``correct_original``, ``relevance_loss``, ``mse`` (None when lost), ``lost``.

    Raises:
        ValueError: the lists differ in length, or a reconstruction's shape differs
            from its original's.
    """
    if len(pairs) != len(reconstructions):
        raise ValueError(f"{len(pairs)} pairs but {len(reconstructions)} reconstructions")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    scores = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        received = reconstructions[start:start + batch_size]
        for pair, image in zip(chunk, received):
            if image is not None and image.shape != pair.image.shape:
                raise ValueError(f"{pair.image_id}: reconstruction {image.shape} vs original "
                                 f"{pair.image.shape}")
        shown = [stand_in(image, pair.image.shape) for pair, image in zip(chunk, received)]
        questions = [pair.question for pair in chunk]
        originals = _to_tensor([pair.image for pair in chunk])
        reconstructed = _to_tensor(shown)
        before = judge.answer(originals, questions)
        after = judge.answer(reconstructed, questions)
        hidden_before = judge.hidden(originals, questions)
        hidden_after = judge.hidden(reconstructed, questions)
        for i, (pair, image) in enumerate(zip(chunk, received)):
            # float32 rounding can put identical images' distance a hair below 0.
            distance = cosine_relevance_loss(hidden_before[i:i + 1], hidden_after[i:i + 1])
            relevance = max(0.0, float(distance))
            scores.append({
                "image_id": pair.image_id, "kind": pair.kind, "question": pair.question,
                "answer": pair.answer, "answer_original": before[i],
                "answer_reconstruction": after[i], "match": before[i] == after[i],
                "correct": after[i] == pair.answer, "correct_original": before[i] == pair.answer,
                "relevance_loss": relevance,
                "mse": None if image is None else mse(pair.image, image), "lost": image is None,
            })
    return scores


def _json_psnr(error):
    """PSNR (dB, peak 255) of a mean squared error; None for a perfect copy (JSON has no inf)."""
    return None if error == 0 else psnr_from_mse(error)


def _rate(flags):
    return float(np.mean(flags)) if len(flags) else None


def summarize_scores(scores):
    """Aggregate :func:`score_pairs`' output.

    Returns:
        dict: ``n_pairs``, ``n_lost``, ``answer_match_rate``, ``answer_match_rate_received``
        (over the images that arrived; None when none did), ``accuracy``,
        ``accuracy_original``, ``relevance_loss`` (mean over pairs), ``psnr_db``
        (of the mean MSE of the received images; None when none arrived or all
        are perfect copies) and ``answer_match_by_kind``.
    """
    if not scores:
        raise ValueError("no scores to summarize")
    received_mse = [s["mse"] for s in scores if not s["lost"]]
    kinds = sorted({s["kind"] for s in scores})
    return {
        "n_pairs": len(scores),
        "n_lost": sum(s["lost"] for s in scores),
        "answer_match_rate": _rate([s["match"] for s in scores]),
        # Separates the codec's robustness to bit errors from the PHY losing whole bursts.
        "answer_match_rate_received": _rate([s["match"] for s in scores if not s["lost"]]),
        "accuracy": _rate([s["correct"] for s in scores]),
        "accuracy_original": _rate([s["correct_original"] for s in scores]),
        "relevance_loss": float(np.mean([s["relevance_loss"] for s in scores])),
        "psnr_db": _json_psnr(float(np.mean(received_mse))) if received_mse else None,
        "answer_match_by_kind": {k: _rate([s["match"] for s in scores if s["kind"] == k]) for k in kinds},
    }
