#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Text semantic accuracy of received captions, and the pairs' reference captions.

A received caption is scored against the scene's ground-truth caption with
:func:`uoisc_train.vlf.caption_metrics.caption_scores` (the template parser:
per-attribute accuracy of size, colour, shape, position, whole objects, object
count and background, order-free). A caption that never arrived is scored as
the empty string: no object and no background, so every attribute is wrong
(the user asked and got nothing). Image scores are issue 6's
(:mod:`gnuradio.uoisc.apps.eval_metrics`), not repeated here.
"""

import numpy as np

from uoisc_train.vlf.caption_metrics import caption_scores

#: Text metrics of a point (means over its pairs), in table order.
TEXT_METRICS = ("object", "colour", "shape", "size", "position", "count", "background", "exact")


def reference_captions(pairs, split):
    """The ground-truth caption of each pair's scene (regenerated from its seed).

    Args:
        pairs: :class:`~gnuradio.uoisc.apps.eval_pairs.EvalPair` s of ``split``.
        split: the world split the pairs were drawn from.
    """
    from uoisc_train.world import generate_scene

    return [generate_scene(pair.scene_seed, int(pair.image.shape[0]), split).caption for pair in pairs]


def score_captions(references, received):
    """One score dict per pair.

    Args:
        references: ground-truth captions.
        received: the received caption per pair, or None when its frame was lost.

    Returns:
        list of dicts: ``reference``, ``received`` ("" when lost), ``lost`` and one
        value per :data:`TEXT_METRICS` entry.

    Raises:
        ValueError: the lists differ in length.
    """
    if len(references) != len(received):
        raise ValueError(f"{len(references)} references but {len(received)} received captions")
    scores = []
    for reference, caption in zip(references, received):
        text = "" if caption is None else caption
        scores.append({"reference": reference, "received": text, "lost": caption is None,
                       **{k: v for k, v in caption_scores(reference, text).items() if k in TEXT_METRICS}})
    return scores


def summarize_captions(scores):
    """Means of :func:`score_captions`' output: one per :data:`TEXT_METRICS` entry, plus
    ``n_pairs``, ``n_lost`` and ``object_received`` (whole-object accuracy of the captions
    that arrived; None when none did)."""
    if not scores:
        raise ValueError("no caption scores to summarize")
    received = [s["object"] for s in scores if not s["lost"]]
    summary = {key: float(np.mean([s[key] for s in scores])) for key in TEXT_METRICS}
    summary.update(n_pairs=len(scores), n_lost=sum(s["lost"] for s in scores),
                   object_received=float(np.mean(received)) if received else None)
    return summary


def unrelated_captions(references):
    """Each scene paired with the next scene's true caption (the last with the first): a caption
    that carries no information about its scene, the chance level of every text metric."""
    return list(references[1:]) + list(references[:1])
