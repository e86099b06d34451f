"""Segment-wise vector quantisation with one codebook per segment (paper eqs. 5-7, 9, 12).

Every ``D``-dimensional aligned vector is cut into ``S = D / l_s`` segments
of length ``l_s``; segment ``s`` is replaced by its nearest codeword in
codebook ``C_s`` (``K`` codewords). As in the paper, the codebooks are
indexed by segment only: every selected layer shares the same ``S``
codebooks (the features of all layers live in the same shared space after
eqs. 1-4).

Training details (VQ-VAE practice, not spelled out in the paper):

* straight-through estimator: the forward value is the codeword, the
  backward pass copies the gradient to the encoder output;
* eq. 12 is averaged over rows, segments and segment elements (the paper
  sums); this only rescales it and keeps ``beta`` and the lambdas
  independent of the number of tokens;
* dead-codeword restarts: an exponential moving average of how often each
  codeword is picked is kept per segment; :meth:`restart_dead_codes`
  re-seeds the rarely used ones with encoder outputs of the current batch.
  The average starts at zero, so the first restart initialises the whole
  codebook from data.

Erasure token (optional, receiver side only): each segment codebook gets one
extra learned row, index ``K``, that :meth:`lookup` returns for a segment the
PHY marked erased. :meth:`nearest` never picks it, so the transmitted indices
do not change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["SegmentVectorQuantizer", "QuantizerOutput", "corrupt_indices"]

_log = logging.getLogger(__name__)


@dataclass
class QuantizerOutput:
    """What one quantiser pass gives.

    Attributes:
        quantized: codewords with straight-through gradient, same shape as the input.
        indices: int64 ``... x S`` nearest-codeword indices (eq. 7).
        loss: scalar eq. 12 (codebook term + beta * commitment term).
        codebook_loss: ``||sg[z] - e||^2`` (moves codewords only).
        commitment_loss: ``||z - sg[e]||^2`` (moves the encoder only).
        perplexity: ``exp(entropy)`` of the batch's codeword histogram,
            averaged over segments; ``K`` when usage is uniform, 1 when collapsed.
        usage: fraction of codewords picked at least once in the batch,
            averaged over segments.
    """

    quantized: Tensor
    indices: Tensor
    loss: Tensor
    codebook_loss: Tensor
    commitment_loss: Tensor
    perplexity: Tensor
    usage: Tensor


def corrupt_indices(indices: Tensor, rate: float, codebook_size: int,
                    generator: torch.Generator | None = None) -> Tensor:
    """Replace each index, with probability ``rate``, by a *different* random index.

    Simulates symbol errors after the PHY (noise-aware training). The new
    index is uniform over the ``K - 1`` other values, so ``rate`` is exactly
    the expected fraction of changed indices (the PHY's measured index error
    rate), not diluted by replacements that happen to hit the same value.

    Args:
        indices: integer tensor with values in ``[0, K)``.
        rate: replacement probability in ``[0, 1]``.
        codebook_size: ``K`` (>= 2).
        generator: optional torch generator for reproducible noise.

    Returns:
        A new int64 tensor of the same shape.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate={rate!r} must be in [0, 1]")
    if codebook_size < 2:
        raise ValueError(f"codebook_size={codebook_size!r} must be >= 2")
    indices = indices.long()
    if rate == 0.0:
        return indices.clone()
    hit = torch.rand(indices.shape, generator=generator, device=indices.device) < rate
    offset = torch.randint(1, codebook_size, indices.shape, generator=generator,
                           device=indices.device)
    return torch.where(hit, (indices + offset) % codebook_size, indices)


class SegmentVectorQuantizer(nn.Module):
    """``S`` codebooks of ``K`` codewords of length ``l_s``.

    Args:
        dim: vector dimension ``D`` (multiple of ``segment_length``).
        segment_length: ``l_s``.
        codebook_size: ``K`` (>= 2).
        beta: commitment weight of eq. 12.
        usage_decay: decay of the codeword usage moving average, in (0, 1).
        dead_code_threshold: restart codewords whose average usage is below
            ``dead_code_threshold / K``.
        erasure_token: add the decoder-only "erased" row (index ``K``) per segment.
    """

    def __init__(self, dim: int, segment_length: int, codebook_size: int, beta: float = 0.25,
                 usage_decay: float = 0.95, dead_code_threshold: float = 0.1,
                 erasure_token: bool = False):
        super().__init__()
        if segment_length < 1 or dim < 1 or dim % segment_length:
            raise ValueError(f"segment_length={segment_length} must divide dim={dim}")
        if codebook_size < 2:
            raise ValueError(f"codebook_size={codebook_size} must be >= 2")
        if beta < 0:
            raise ValueError(f"beta={beta} must be >= 0")
        if not 0.0 < usage_decay < 1.0:
            raise ValueError(f"usage_decay={usage_decay} must be in (0, 1)")
        if dead_code_threshold < 0:
            raise ValueError(f"dead_code_threshold={dead_code_threshold} must be >= 0")
        self.dim = dim
        self.segment_length = segment_length
        self.n_segments = dim // segment_length
        self.codebook_size = codebook_size
        self.beta = beta
        self.usage_decay = usage_decay
        self.dead_code_threshold = dead_code_threshold
        self.codebooks = nn.Parameter(torch.randn(self.n_segments, codebook_size, segment_length)
                                      / segment_length ** 0.5)
        self.register_buffer("usage_ema", torch.zeros(self.n_segments, codebook_size))
        # Kept apart from ``codebooks`` so that eq. 7, the usage statistics and the
        # restarts only ever see the K real codewords.
        self.erasure_codewords = nn.Parameter(torch.zeros(self.n_segments, segment_length)) \
            if erasure_token else None

    @property
    def erasure_index(self) -> int | None:
        """``K`` when the quantiser has the erasure row, else None."""
        return None if self.erasure_codewords is None else self.codebook_size

    @torch.no_grad()
    def reset_erasure_codewords(self) -> None:
        """Set every segment's erasure row to the mean of its codebook (a neutral start)."""
        if self.erasure_codewords is None:
            raise ValueError("this quantiser has no erasure token (erasure_token=False)")
        self.erasure_codewords.copy_(self.codebooks.mean(dim=1))

    # ---- eqs. 6-7 -----------------------------------------------------------
    def split(self, vectors: Tensor) -> Tensor:
        """Eq. 6: ``... x D`` -> ``... x S x l_s``."""
        if vectors.shape[-1] != self.dim:
            raise ValueError(f"last dimension {vectors.shape[-1]} != quantiser dim {self.dim}")
        return vectors.reshape(*vectors.shape[:-1], self.n_segments, self.segment_length)

    def nearest(self, segments: Tensor) -> Tensor:
        """Eq. 7: index of the nearest codeword of each segment's own codebook.

        Args:
            segments: ``... x S x l_s``.

        Returns:
            int64 ``... x S``.
        """
        flat = segments.reshape(-1, self.n_segments, self.segment_length)
        codebooks = self.codebooks.detach()
        # ||x - e||^2 = ||x||^2 - 2 x.e + ||e||^2; ||x||^2 does not change the argmin.
        scores = (codebooks.pow(2).sum(-1).unsqueeze(0)
                  - 2.0 * torch.einsum("msd,skd->msk", flat.detach(), codebooks))
        return scores.argmin(dim=-1).reshape(segments.shape[:-1])

    # ---- eq. 9 --------------------------------------------------------------
    def lookup(self, indices: Tensor) -> Tensor:
        """Eq. 9: codewords of ``... x S`` indices, concatenated to ``... x D``.

        Any index in ``[0, K)`` is valid, including indices changed by channel
        errors, and ``K`` (erased) when the quantiser has the erasure row;
        anything else raises ``ValueError`` (the range check is skipped while
        tracing for ONNX export, where it cannot be expressed).
        """
        if indices.dtype.is_floating_point or indices.dtype == torch.bool:
            raise ValueError(f"indices must be an integer tensor, got {indices.dtype}")
        if indices.ndim < 1 or indices.shape[-1] != self.n_segments:
            raise ValueError(f"indices of shape {tuple(indices.shape)}: last dimension must be "
                             f"the {self.n_segments} segments")
        rows = self.codebook_size + (self.erasure_codewords is not None)
        exporting = torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
        if not exporting and indices.numel():
            low, high = int(indices.min()), int(indices.max())
            if low < 0 or high >= rows:
                bad = low if low < 0 else high
                raise ValueError(f"codeword index {bad} out of range [0, {rows})")
        table = self.codebooks if self.erasure_codewords is None else \
            torch.cat([self.codebooks, self.erasure_codewords.unsqueeze(1)], dim=1)
        segment = torch.arange(self.n_segments, device=indices.device)
        codewords = table[segment, indices.long()]                 # ... x S x l_s
        return codewords.reshape(*indices.shape[:-1], self.dim)

    # ---- eq. 12 and the straight-through pass ---------------------------------
    def forward(self, vectors: Tensor) -> QuantizerOutput:
        """Quantise ``... x D`` vectors (eqs. 5-7) and compute eq. 12."""
        segments = self.split(vectors)
        indices = self.nearest(segments)
        codewords = self.lookup(indices).reshape(segments.shape)
        codebook_loss = F.mse_loss(codewords, segments.detach())
        commitment_loss = F.mse_loss(segments, codewords.detach())
        quantized = segments + (codewords - segments).detach()
        perplexity, usage, histogram = self._statistics(indices)
        if self.training:
            self._update_usage(histogram)
        return QuantizerOutput(
            quantized=quantized.reshape(vectors.shape), indices=indices,
            loss=codebook_loss + self.beta * commitment_loss,
            codebook_loss=codebook_loss, commitment_loss=commitment_loss,
            perplexity=perplexity, usage=usage)

    # ---- codebook health ------------------------------------------------------
    def _statistics(self, indices: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Perplexity and usage of this batch, and its S x K histogram (fractions)."""
        flat = indices.reshape(-1, self.n_segments)
        # One bincount over (segment, codeword) pairs: no M x S x K one-hot tensor.
        offsets = torch.arange(self.n_segments, device=flat.device) * self.codebook_size
        counts = torch.bincount((flat + offsets).flatten(),
                                minlength=self.n_segments * self.codebook_size)
        histogram = counts.view(self.n_segments, self.codebook_size).float() / max(flat.shape[0], 1)
        entropy = -(histogram * torch.log(histogram.clamp_min(1e-12))).sum(-1)
        return entropy.exp().mean(), (histogram > 0).float().mean(), histogram

    @torch.no_grad()
    def _update_usage(self, histogram: Tensor) -> None:
        self.usage_ema.mul_(self.usage_decay).add_(histogram, alpha=1.0 - self.usage_decay)

    def dead_codes(self) -> Tensor:
        """``S x K`` bool: codewords whose usage average is below the restart threshold."""
        return self.usage_ema < self.dead_code_threshold / self.codebook_size

    @torch.no_grad()
    def restart_dead_codes(self, vectors: Tensor) -> int:
        """Re-seed dead codewords with random segments of ``vectors``.

        Call it after an optimiser step with (detached) encoder outputs of the
        current batch. Restarted codewords get the uniform usage ``1/K`` so
        they have time to be picked before being judged again.

        Args:
            vectors: ``... x D`` encoder outputs (aligned features).

        Returns:
            The number of codewords restarted (over all segments).
        """
        samples = self.split(vectors.detach()).reshape(-1, self.n_segments, self.segment_length)
        if samples.shape[0] == 0:
            raise ValueError("restart_dead_codes needs at least one vector")
        dead = self.dead_codes()
        n_dead = int(dead.sum())
        for segment in torch.nonzero(dead.any(dim=1)).flatten().tolist():
            slots = torch.nonzero(dead[segment]).flatten()
            picks = torch.randint(0, samples.shape[0], (slots.numel(),), device=samples.device)
            self.codebooks.data[segment, slots] = samples[picks, segment]
            self.usage_ema[segment, slots] = 1.0 / self.codebook_size
        if n_dead:
            _log.debug("restarted %d dead codewords", n_dead)
        return n_dead
