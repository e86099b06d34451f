"""The VLF feature's quantisers: a uniform scalar quantiser and k-means codebooks for the VQ.

The segment-wise VQ itself is UO-ISC's :class:`~uoisc_train.codec.vq.SegmentVectorQuantizer`
(one codebook per segment). This module adds what VLF-MSC needs besides it:

* :class:`ScalarQuantizer`: every dimension of the ``E``-dim feature gets ``2**b``
  uniform levels over its own range (midrise: reconstruction at the cell centres),
  straight-through gradient. The range is calibrated from data
  (:meth:`ScalarQuantizer.calibrate`), so both quantisers see the data before use.
* :func:`fit_codebooks`: Lloyd's k-means on every segment at once, to initialise or
  fit the VQ codebooks from features. A unit-norm CLIP embedding is a fixed
  target (the backbone is frozen), so k-means gives the VQ its best codebooks
  without a training loop; the straight-through training path stays available
  for query modulation, where the feature itself is learned.
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor, nn

from uoisc_train.codec.vq import SegmentVectorQuantizer

__all__ = ["ScalarQuantizer", "fit_codebooks"]

_log = logging.getLogger(__name__)


class ScalarQuantizer(nn.Module):
    """Uniform per-dimension quantiser with ``2**bits`` levels.

    Args:
        dim: feature dimension ``E``.
        bits: bits per dimension (1..16).
        initial_range: symmetric range ``[-r, r]`` before :meth:`calibrate`;
            default ``3 / sqrt(dim)``, three standard deviations of one
            coordinate of a random unit vector.
    """

    def __init__(self, dim: int, bits: int, initial_range: float | None = None):
        super().__init__()
        if dim < 1:
            raise ValueError(f"dim={dim} must be positive")
        if not 1 <= bits <= 16:
            raise ValueError(f"bits={bits} must be in [1, 16]")
        self.dim, self.bits, self.n_levels = dim, bits, 2 ** bits
        limit = 3.0 / dim ** 0.5 if initial_range is None else float(initial_range)
        if not limit > 0:
            raise ValueError(f"initial_range={initial_range!r} must be positive")
        self.register_buffer("low", torch.full((dim,), -limit))
        self.register_buffer("high", torch.full((dim,), limit))

    @property
    def step(self) -> Tensor:
        """Cell width of every dimension, ``E``."""
        return (self.high - self.low) / self.n_levels

    @torch.no_grad()
    def calibrate(self, features: Tensor, tail: float = 0.001) -> None:
        """Set each dimension's range to its ``[tail, 1 - tail]`` quantiles in ``features``.

        Args:
            features: ``M x E`` training features.
            tail: fraction of values clipped at each end, in [0, 0.5).
        """
        if features.ndim != 2 or features.shape[1] != self.dim or features.shape[0] < 2:
            raise ValueError(f"features of shape {tuple(features.shape)}; expected M x {self.dim}, M >= 2")
        if not 0.0 <= tail < 0.5:
            raise ValueError(f"tail={tail!r} must be in [0, 0.5)")
        bounds = torch.quantile(features.float(), torch.tensor([tail, 1.0 - tail]), dim=0)
        # A constant dimension still needs a positive step.
        width = (bounds[1] - bounds[0]).clamp_min(1e-6)
        self.low.copy_(bounds[0])
        self.high.copy_(bounds[0] + width)

    def quantize(self, features: Tensor) -> Tensor:
        """int64 level of each value, ``... x E`` in ``[0, 2**bits)``."""
        if features.shape[-1] != self.dim:
            raise ValueError(f"last dimension {features.shape[-1]} != quantiser dim {self.dim}")
        levels = torch.floor((features - self.low) / self.step)
        return levels.clamp(0, self.n_levels - 1).long()

    def lookup(self, codes: Tensor) -> Tensor:
        """Cell centres of integer levels ``... x E``; out-of-range levels raise ``ValueError``."""
        if codes.dtype.is_floating_point or codes.dtype == torch.bool:
            raise ValueError(f"codes must be an integer tensor, got {codes.dtype}")
        if codes.ndim < 1 or codes.shape[-1] != self.dim:
            raise ValueError(f"codes of shape {tuple(codes.shape)}: last dimension must be {self.dim}")
        exporting = torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()
        if not exporting and codes.numel():
            low, high = int(codes.min()), int(codes.max())
            if low < 0 or high >= self.n_levels:
                bad = low if low < 0 else high
                raise ValueError(f"scalar level {bad} out of range [0, {self.n_levels})")
        return self.low + (codes.to(self.low.dtype) + 0.5) * self.step

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Quantised features (straight-through gradient) and their int64 levels."""
        codes = self.quantize(features)
        values = self.lookup(codes)
        return features + (values - features).detach(), codes


@torch.no_grad()
def fit_codebooks(quantizer: SegmentVectorQuantizer, vectors: Tensor, iterations: int = 20,
                  seed: int = 0) -> float:
    """Fit every segment's codebook to ``vectors`` with Lloyd's k-means, in place.

    Initialisation: ``K`` distinct random training segments per codebook (so it
    needs at least ``K`` vectors). A cluster that empties keeps its codeword.

    Args:
        quantizer: the VQ whose ``codebooks`` are overwritten.
        vectors: ``M x D`` training features, ``M >= K``.
        iterations: Lloyd iterations (>= 1).
        seed: seed of the initial pick.

    Returns:
        The final mean squared quantisation error per element.
    """
    if vectors.ndim != 2 or vectors.shape[1] != quantizer.dim:
        raise ValueError(f"vectors of shape {tuple(vectors.shape)}; expected M x {quantizer.dim}")
    n_vectors, n_codewords = vectors.shape[0], quantizer.codebook_size
    if n_vectors < n_codewords:
        raise ValueError(f"{n_vectors} vectors cannot seed {n_codewords} codewords")
    if iterations < 1:
        raise ValueError(f"iterations={iterations} must be >= 1")
    segments = quantizer.split(vectors.float())                          # M x S x l_s
    generator = torch.Generator().manual_seed(seed)
    picks = torch.stack([torch.randperm(n_vectors, generator=generator)[:n_codewords]
                         for _ in range(quantizer.n_segments)])          # S x K
    segment_ids = torch.arange(quantizer.n_segments)
    quantizer.codebooks.data.copy_(segments[picks, segment_ids.unsqueeze(1)])
    for _ in range(iterations):
        assignment = quantizer.nearest(segments)                         # M x S
        flat = (assignment + segment_ids * n_codewords).flatten()        # one id per (segment, code)
        sums = torch.zeros(quantizer.n_segments * n_codewords, quantizer.segment_length)
        sums.index_add_(0, flat, segments.reshape(-1, quantizer.segment_length))
        counts = torch.bincount(flat, minlength=sums.shape[0]).unsqueeze(1)
        means = sums / counts.clamp_min(1)
        old = quantizer.codebooks.data.reshape(-1, quantizer.segment_length)
        quantizer.codebooks.data.copy_(torch.where(counts > 0, means, old).view_as(quantizer.codebooks))
    error = (quantizer.lookup(quantizer.nearest(segments)) - vectors).pow(2).mean()
    _log.info("k-means codebooks: %d segments x %d codewords, mse %.3g", quantizer.n_segments,
              n_codewords, float(error))
    return float(error)
