"""CLIP's byte-level BPE tokenizer, without torch: the same ids as ``open_clip.tokenize``.

The encoder graph takes token ids, not text, so a receiver of queries needs the
tokenizer; open_clip's own one imports torch (hundreds of MB) at import time.
This module re-implements open_clip's ``SimpleTokenizer`` (``clean="lower"``,
no reduction mask) on numpy and reads the BPE merges file that ships *inside*
the installed open_clip package, located with ``importlib.util.find_spec``,
which does not import it. Cleaning uses the same ``ftfy`` and ``regex``
libraries as open_clip, so text that open_clip treats specially is treated the
same way here. ``tests/test_runtime_tokenizer.py`` checks id-for-id parity.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
from functools import lru_cache
from pathlib import Path

import ftfy
import numpy as np
import regex

__all__ = ["DEFAULT_CONTEXT_LENGTH", "ClipTokenizer", "TokenizerError", "default_bpe_path",
           "tokenizer_for"]

DEFAULT_CONTEXT_LENGTH = 77
_BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"
# The vocabulary uses the first 49152 - 256 - 2 merges (CLIP's choice).
_N_MERGES = 49152 - 256 - 2
_START, _END = "<start_of_text>", "<end_of_text>"


class TokenizerError(ValueError):
    """Bad tokenizer arguments, an unsupported tokenizer spec, or a missing BPE file."""


def default_bpe_path() -> Path:
    """The BPE merges file inside the installed open_clip package (not imported).

    Raises:
        TokenizerError: open_clip is not installed or ships no merges file.
    """
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerError("the CLIP tokenizer needs the BPE merges file of the open_clip "
                             "package (open_clip_torch), which is not installed")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / _BPE_FILE
        if path.is_file():
            return path
    raise TokenizerError(f"no {_BPE_FILE} in the open_clip package at "
                         f"{list(spec.submodule_search_locations)}")


@lru_cache()
def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's reversible map of the 256 byte values onto printable characters."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, codes)))


def _clean(text: str) -> str:
    """open_clip's ``clean="lower"``: ftfy, double html unescape, collapse whitespace, lower."""
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).strip().lower()


class ClipTokenizer:
    """Text -> CLIP token ids, padded with zeros to ``context_length``.

    Args:
        context_length: ids per text; longer texts are truncated with the
            end-of-text id kept as the last id (as open_clip does).
        bpe_path: the merges file; ``None`` = the one inside open_clip.

    Raises:
        TokenizerError: bad ``context_length`` or unreadable merges file.
    """

    def __init__(self, context_length: int = DEFAULT_CONTEXT_LENGTH,
                 bpe_path: str | Path | None = None):
        if isinstance(context_length, bool) or not isinstance(context_length, int) \
                or context_length < 2:
            raise TokenizerError(f"context_length={context_length!r} must be an integer >= 2 "
                                 "(start and end of text)")
        self.context_length = context_length
        path = Path(bpe_path) if bpe_path is not None else default_bpe_path()
        try:
            lines = gzip.open(path).read().decode("utf-8").split("\n")
        except OSError as error:
            raise TokenizerError(f"cannot read BPE merges file {path}: {error}") from error
        merges = [tuple(line.split()) for line in lines[1:_N_MERGES + 1]]
        self._byte_encoder = _bytes_to_unicode()
        symbols = list(self._byte_encoder.values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
        vocab += [_START, _END]
        self._encoder = {token: i for i, token in enumerate(vocab)}
        self._ranks = {merge: i for i, merge in enumerate(merges)}
        self._cache = {_START: _START, _END: _END}
        self.start_id, self.end_id = self._encoder[_START], self._encoder[_END]
        self._pattern = regex.compile(
            rf"{_START}|{_END}|'s|'t|'re|'ve|'m|'ll|'d|[\p{{L}}]+|[\p{{N}}]|[^\s\p{{L}}\p{{N}}]+",
            regex.IGNORECASE)

    @property
    def vocab_size(self) -> int:
        return len(self._encoder)

    def _bpe(self, token: str) -> list[str]:
        """Merge the characters of one pre-token by rank until no known pair is left."""
        if token in self._cache:
            return self._cache[token].split(" ")
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda pair: self._ranks.get(pair, float("inf")))
            if best not in self._ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        self._cache[token] = " ".join(word)
        return list(word)

    def encode(self, text: str) -> list[int]:
        """BPE ids of one text, without start/end of text."""
        ids = []
        for piece in regex.findall(self._pattern, _clean(text)):
            mapped = "".join(self._byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self._encoder[sub] for sub in self._bpe(mapped))
        return ids

    def __call__(self, texts: str | list[str]) -> np.ndarray:
        """Token ids, int64 ``N x context_length`` (``N = 1`` for a single string).

        Raises:
            TokenizerError: an element is not a string.
        """
        if isinstance(texts, str):
            texts = [texts]
        result = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise TokenizerError(f"text {text!r} is a {type(text).__name__}, not a str")
            ids = [self.start_id] + self.encode(text) + [self.end_id]
            if len(ids) > self.context_length:
                ids = ids[:self.context_length]
                ids[-1] = self.end_id
            result[row, :len(ids)] = ids
        return result


def tokenizer_for(spec: dict) -> ClipTokenizer:
    """The tokenizer a bundle's codec.json names in its ``tokenizer`` field.

    Only open_clip's default ``SimpleTokenizer`` exists here (the one of the
    OpenAI CLIP configs and of ``uoisc-tiny-clip``); any other library is refused
    rather than tokenised wrongly.

    Raises:
        TokenizerError: no ``tokenizer`` field, another library, bad context length.
    """
    field = spec.get("tokenizer") if isinstance(spec, dict) else None
    if not isinstance(field, dict):
        raise TokenizerError(f"codec.json has no 'tokenizer' object (got {field!r})")
    if field.get("library") != "open_clip":
        raise TokenizerError(f"codec.json field 'tokenizer.library'={field.get('library')!r}: "
                             "this runtime only has open_clip's CLIP BPE tokenizer")
    return ClipTokenizer(field.get("context_length", DEFAULT_CONTEXT_LENGTH))
