"""Greedy captions from ``caption_decoder.onnx`` in numpy (the VLF-MSC text receiver).

The graph (written by ``uoisc_train.vlf.caption_export``) is one teacher-forced pass at a
fixed token length ``max_len``: ``(feature N x E, tokens N x max_len) -> log_probs N x
max_len x V``. Decoding pads the tokens to ``max_len`` and reads position ``t``; the causal
mask makes the padding after ``t`` irrelevant, so the tokens equal torch's
``CaptionDecoder.generate`` (greedy). ``caption.json`` carries the word vocabulary and the
special ids; :func:`tokens_to_text` turns ids back into the caption's text form.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["onnx_greedy_decode", "tokens_to_text"]


def onnx_greedy_decode(session, features: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Greedy caption tokens from an onnxruntime session of ``caption_decoder.onnx``.

    Args:
        session: ``onnxruntime.InferenceSession`` of the graph.
        features: float32 ``N x E``.
        spec: the ``caption.json`` dict (special ids, ``max_len``, ``embed_dim``).

    Returns:
        int64 ``N x T`` tokens (bos, words, eos, pad), ``T <= max_len``, as
        ``CaptionDecoder.generate`` with ``beam_size=1`` returns them.

    Raises:
        ValueError: features that are not ``N x embed_dim``.
    """
    ids, max_len = spec["special_ids"], spec["max_len"]
    features = np.ascontiguousarray(features, dtype=np.float32)
    if features.ndim != 2 or features.shape[1] != spec["embed_dim"]:
        raise ValueError(f"features of shape {features.shape}; expected N x {spec['embed_dim']}")
    n = features.shape[0]
    tokens = np.full((n, max_len), ids["pad"], dtype=np.int64)
    tokens[:, 0] = ids["bos"]
    finished = np.zeros(n, dtype=bool)
    length = 1
    for position in range(max_len - 1):
        if n == 0:
            break
        (log_probs,) = session.run(["log_probs"], {"feature": features, "tokens": tokens})
        step = log_probs[:, position].copy()
        # Never emit the control ids mid-caption (torch's decoder masks the same ones).
        step[:, [ids["pad"], ids["bos"], ids["unk"]]] = -np.inf
        chosen = np.where(finished, ids["pad"], step.argmax(axis=1))
        tokens[:, position + 1] = chosen
        length = position + 2
        finished |= chosen == ids["eos"]
        if finished.all():
            break
    return tokens[:, :length]


def tokens_to_text(ids: Sequence[int], vocabulary: Sequence[str], special_ids: dict[str, int]) -> str:
    """Caption text of ``ids``: stops at eos, skips pad and bos, puts "," and "." against
    the previous word and capitalises the first letter (``CaptionVocabulary.decode``'s rule).

    Raises:
        ValueError: an id outside the vocabulary.
    """
    words = []
    for token in ids:
        token = int(token)
        if token == special_ids["eos"]:
            break
        if token in (special_ids["pad"], special_ids["bos"]):
            continue
        if not 0 <= token < len(vocabulary):
            raise ValueError(f"token id {token} out of range [0, {len(vocabulary)})")
        words.append(vocabulary[token])
    text = " ".join(words).replace(" ,", ",").replace(" .", ".")
    return text[:1].upper() + text[1:]
