"""ClipCap-style caption decoder: the received VLF feature as a prefix of a small causal LM.

ClipCap (Mokady et al., 2021) maps a CLIP image embedding to ``P`` prefix
embeddings with an MLP and lets a language model continue from them; VLF-MSC's
text receiver does the same with the dequantised feature (``docs/vlf.md``).
Here the LM is a small pre-norm transformer trained from scratch on the offline
world's captions (closed vocabulary, ``caption_vocab``); the GPT-2 version for
real data is ``caption_gpt2``.

Sequence layout: ``[prefix_1 .. prefix_P, bos, w_1 .. w_n, eos, pad ...]`` with one
causal mask over the whole sequence; the loss is the cross-entropy of each
next word after ``bos`` (padding ignored). Decoding is greedy or beam search on
the summed log-probability, both deterministic (no sampling).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from uoisc_train.vlf.caption_vocab import CaptionVocabulary

__all__ = ["CaptionDecoderConfig", "CaptionDecoder"]


@dataclass(frozen=True)
class CaptionDecoderConfig:
    """Size of a :class:`CaptionDecoder`.

    Args:
        embed_dim: ``E``, size of the received feature.
        prefix_length: ``P``, prefix embeddings made from the feature.
        width: transformer width ``W``.
        layers: transformer layers.
        heads: attention heads (divides ``width``).
        max_len: longest token sequence (bos + words + eos).
        dropout: dropout in the transformer layers while training.
    """

    embed_dim: int = 128
    prefix_length: int = 8
    width: int = 128
    layers: int = 3
    heads: int = 4
    max_len: int = 64
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("embed_dim", "prefix_length", "width", "layers", "heads", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.width % self.heads:
            raise ValueError(f"heads={self.heads} does not divide width={self.width}")
        if self.max_len < 2:
            raise ValueError(f"max_len={self.max_len} must be >= 2 (bos and eos)")
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout!r} must be in [0, 1)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaptionDecoderConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown CaptionDecoderConfig fields {unknown!r}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


class CaptionDecoder(nn.Module):
    """Mapping network + causal transformer LM over a closed caption vocabulary.

    Args:
        config: sizes.
        vocabulary: word ids (default: the world's :class:`CaptionVocabulary`).
    """

    def __init__(self, config: CaptionDecoderConfig, vocabulary: CaptionVocabulary | None = None):
        super().__init__()
        self.config = config
        self.vocabulary = vocabulary or CaptionVocabulary()
        width, prefix = config.width, config.prefix_length
        # ClipCap's MLP mapping network: feature -> P prefix embeddings.
        self.mapping = nn.Sequential(nn.Linear(config.embed_dim, 2 * width), nn.GELU(),
                                     nn.Linear(2 * width, prefix * width))
        self.token_embedding = nn.Embedding(len(self.vocabulary), width)
        # GPT-2's small init: with tied weights, nn.Embedding's N(0, 1) would start
        # the logits at a scale of sqrt(width) and the loss far above log(V).
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.position_embedding = nn.Parameter(torch.randn(prefix + config.max_len, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, config.heads, 4 * width, config.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, len(self.vocabulary), bias=False)
        self.head.weight = self.token_embedding.weight   # tied input/output embeddings

    # ---- teacher forcing ------------------------------------------------------
    def _check_features(self, features: Tensor) -> None:
        if features.ndim != 2 or features.shape[1] != self.config.embed_dim:
            raise ValueError(f"features of shape {tuple(features.shape)}; expected N x "
                             f"{self.config.embed_dim}")

    def logits(self, features: Tensor, tokens: Tensor) -> Tensor:
        """Next-token logits at every token position: ``N x T x V``.

        Args:
            features: ``N x E`` received features (any float tensor).
            tokens: int64 ``N x T`` starting with bos, ``T <= max_len``.
        """
        self._check_features(features)
        if tokens.ndim != 2 or tokens.shape[0] != features.shape[0] or not \
                1 <= tokens.shape[1] <= self.config.max_len:
            raise ValueError(f"tokens of shape {tuple(tokens.shape)} for {features.shape[0]} "
                             f"features (at most {self.config.max_len} tokens)")
        n, prefix, width = features.shape[0], self.config.prefix_length, self.config.width
        sequence = torch.cat([self.mapping(features).view(n, prefix, width),
                              self.token_embedding(tokens)], dim=1)
        sequence = sequence + self.position_embedding[:sequence.shape[1]]
        mask = nn.Transformer.generate_square_subsequent_mask(sequence.shape[1], device=features.device)
        hidden = self.final_norm(self.transformer(sequence, mask=mask, is_causal=True))
        return self.head(hidden[:, prefix:])

    def forward(self, features: Tensor, tokens: Tensor) -> dict[str, Tensor]:
        """Teacher-forced pass.

        Returns:
            ``logits`` (``N x T x V``) and ``loss``: mean cross-entropy of
            ``tokens[:, 1:]`` (padding ignored).
        """
        logits = self.logits(features, tokens)
        loss = nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                           tokens[:, 1:].reshape(-1), ignore_index=self.vocabulary.pad_id)
        return {"logits": logits, "loss": loss}

    def log_likelihood(self, features: Tensor, tokens: Tensor) -> Tensor:
        """Summed log-probability of each row's tokens after bos (up to eos), ``N``."""
        log_probs = torch.log_softmax(self.logits(features, tokens)[:, :-1], dim=-1)
        picked = log_probs.gather(2, tokens[:, 1:].unsqueeze(-1)).squeeze(-1)
        return (picked * (tokens[:, 1:] != self.vocabulary.pad_id)).sum(dim=1)

    # ---- decoding ----------------------------------------------------------------
    def _next_log_probs(self, features: Tensor, tokens: Tensor, finished: Tensor) -> Tensor:
        """Log-probabilities of the next token; a finished row can only add pad, at no cost."""
        log_probs = torch.log_softmax(self.logits(features, tokens)[:, -1], dim=-1)
        vocab = self.vocabulary
        log_probs[:, [vocab.pad_id, vocab.bos_id, vocab.unk_id]] = -torch.inf
        pad_only = torch.full_like(log_probs, -torch.inf)
        pad_only[:, vocab.pad_id] = 0.0
        return torch.where(finished.unsqueeze(1), pad_only, log_probs)

    def _start(self, n: int, device: torch.device) -> Tensor:
        return torch.full((n, 1), self.vocabulary.bos_id, dtype=torch.int64, device=device)

    def _greedy(self, features: Tensor, max_len: int) -> tuple[Tensor, Tensor]:
        tokens = self._start(features.shape[0], features.device)
        scores = features.new_zeros(features.shape[0])
        finished = torch.zeros(features.shape[0], dtype=torch.bool, device=features.device)
        for _ in range(max_len - 1):
            best, token = self._next_log_probs(features, tokens, finished).max(dim=1)
            scores, tokens = scores + best, torch.cat([tokens, token.unsqueeze(1)], dim=1)
            finished = finished | (token == self.vocabulary.eos_id)
            if finished.all():
                break
        return tokens, scores

    def _beam(self, features: Tensor, beam_size: int, max_len: int) -> tuple[Tensor, Tensor]:
        n, vocab_size = features.shape[0], len(self.vocabulary)
        expanded = features.repeat_interleave(beam_size, dim=0)              # (N k) x E
        tokens = self._start(n * beam_size, features.device)
        scores = features.new_full((n, beam_size), -torch.inf)
        scores[:, 0] = 0.0   # one live beam at the start, so the k beams are not copies
        finished = torch.zeros(n * beam_size, dtype=torch.bool, device=features.device)
        row_offset = torch.arange(n, device=features.device).unsqueeze(1) * beam_size
        for _ in range(max_len - 1):
            log_probs = self._next_log_probs(expanded, tokens, finished)
            total = (scores.reshape(-1, 1) + log_probs).view(n, beam_size * vocab_size)
            scores, best = total.topk(beam_size, dim=1)
            source = (row_offset + best // vocab_size).flatten()
            token = (best % vocab_size).flatten()
            tokens = torch.cat([tokens[source], token.unsqueeze(1)], dim=1)
            finished = finished[source] | (token == self.vocabulary.eos_id)
            if finished.all():
                break
        winner = scores.argmax(dim=1)
        return tokens[row_offset.squeeze(1) + winner], scores.gather(1, winner.unsqueeze(1)).squeeze(1)

    @torch.no_grad()
    def generate(self, features: Tensor, beam_size: int = 1, max_len: int | None = None
                 ) -> tuple[Tensor, Tensor]:
        """Deterministic decoding of ``N x E`` features.

        Args:
            features: received features (dequantised, any float values).
            beam_size: 1 = greedy; ``k > 1`` = beam search keeping the ``k``
                best partial captions by summed log-probability.
            max_len: longest sequence, bos and eos included (default ``config.max_len``).

        Returns:
            ``tokens`` (int64 ``N x T``: bos, words, eos, pad) and ``scores``
            (``N``, summed log-probability of the tokens after bos).
        """
        self._check_features(features)
        max_len = self.config.max_len if max_len is None else max_len
        if not 2 <= max_len <= self.config.max_len:
            raise ValueError(f"max_len={max_len} must be in [2, {self.config.max_len}]")
        if not isinstance(beam_size, int) or beam_size < 1:
            raise ValueError(f"beam_size={beam_size!r} must be a positive integer")
        was_training = self.training
        self.eval()
        try:
            if beam_size == 1:
                return self._greedy(features, max_len)
            return self._beam(features, beam_size, max_len)
        finally:
            self.train(was_training)

    def caption(self, features: Tensor, beam_size: int = 1, max_len: int | None = None) -> list[str]:
        """Caption text of each feature (see :meth:`generate`)."""
        tokens, _ = self.generate(features, beam_size, max_len)
        return [self.vocabulary.decode(row.tolist()) for row in tokens]
