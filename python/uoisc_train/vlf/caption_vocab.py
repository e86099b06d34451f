"""A closed word vocabulary for the offline world's captions.

Why closed words rather than open_clip's BPE ids: every caption of the world is
one template ("A large red circle at the top left, ... and a small blue star in
the centre, on a plain background.") over the names of
:mod:`uoisc_train.world.vocabulary`, so about fifty word ids cover every caption
exactly, one id per word. Sequences are half as long as with BPE (which splits
words and punctuation), the output layer is 50 wide instead of 49,408, and an
attribute error is one wrong id, which keeps decoding and the attribute metrics
simple. A real-world captioner would use a subword tokenizer (``caption_gpt2``).

Text form: lower-case words, "," and "." as their own tokens; decoding joins
them back and capitalises the first letter, so ``decode(encode(c)) == c`` for
every caption the generator writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch

from uoisc_train.world.vocabulary import COLOURS, POSITIONS, SHAPES, SIZES

__all__ = ["PAD", "BOS", "EOS", "UNK", "TEMPLATE_WORDS", "BACKGROUND_WORDS", "CaptionVocabulary"]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"

#: The caption template's own words (``uoisc_train.world.scenes.make_caption``).
TEMPLATE_WORDS = ("a", "and", "on", "at", "in", "the", "centre", "background", ",", ".")
#: Adjectives of the backgrounds in captions.
BACKGROUND_WORDS = ("plain", "gradient", "striped", "checkered", "noisy")

_TOKEN_PATTERN = re.compile(r"[a-z]+|[,.]")


class CaptionVocabulary:
    """Word <-> id mapping; ids 0..3 are pad, bos, eos and unk."""

    def __init__(self, words: Sequence[str] | None = None):
        if words is None:
            words = (TEMPLATE_WORDS + BACKGROUND_WORDS + SIZES + COLOURS + SHAPES + POSITIONS)
        tokens = (PAD, BOS, EOS, UNK) + tuple(dict.fromkeys(words))
        self.tokens: tuple[str, ...] = tokens
        self._ids = {token: i for i, token in enumerate(tokens)}
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.tokens)

    def words(self, caption: str) -> list[str]:
        """Lower-case word and punctuation tokens of ``caption``."""
        return _TOKEN_PATTERN.findall(caption.lower())

    def encode(self, caption: str) -> list[int]:
        """Word ids of ``caption`` (no bos/eos); unknown words map to ``unk``."""
        return [self._ids.get(word, self.unk_id) for word in self.words(caption)]

    def decode(self, ids: Sequence[int]) -> str:
        """Caption text of ``ids``; stops at eos, skips pad and bos."""
        words = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i in (self.pad_id, self.bos_id):
                continue
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"token id {i} out of range [0, {len(self.tokens)})")
            words.append(self.tokens[i])
        text = " ".join(words).replace(" ,", ",").replace(" .", ".")
        return text[:1].upper() + text[1:]

    def batch(self, captions: Sequence[str], max_len: int) -> torch.Tensor:
        """int64 ``N x max_len``: bos, words, eos, pad (too long captions raise ``ValueError``)."""
        rows = torch.full((len(captions), max_len), self.pad_id, dtype=torch.int64)
        for row, caption in zip(rows, captions):
            ids = [self.bos_id, *self.encode(caption), self.eos_id]
            if len(ids) > max_len:
                raise ValueError(f"caption of {len(ids)} tokens longer than max_len={max_len}: {caption!r}")
            row[:len(ids)] = torch.tensor(ids)
        return rows
