"""The UO-ISC codec: frozen CLIP towers, projections, FiLM, segment-wise VQ, decoder.

Paper: "Generalized User-Oriented Image Semantic Coding Empowered by Large
Vision-Language Model", Section II. Transmitter: eqs. 1-2 (``projections``),
3-4 (``film``), 5-7 (``vq``); receiver: eq. 9 (``vq.lookup``) and eq. 10
(``decoder``). The losses of Section III are in ``losses``.
"""

from __future__ import annotations

import logging
from typing import Protocol, Sequence

import torch
from torch import Tensor, nn

from uoisc_train.codec.config import CodecConfig
from uoisc_train.codec.decoder import SkipFusionDecoder
from uoisc_train.codec.film import FiLM
from uoisc_train.codec.projections import LayerProjections
from uoisc_train.codec.vq import SegmentVectorQuantizer, corrupt_indices

__all__ = ["UOISC", "FeatureBackbone", "build_backbone"]

_log = logging.getLogger(__name__)


class FeatureBackbone(Protocol):
    """What the codec needs from the frozen CLIP towers (``uoisc_train.clip.ClipBackbone``).

    ``layers`` are 1-based ViT layer numbers, ``grid_size``/``image_size`` are
    ``(h, w)`` pairs, ``image_layer_features`` returns one ``N x T x D_img``
    tensor per layer (patch tokens only, row-major), ``text_token_features``
    gives ``N x L_t x D_text`` and ``text_token_mask`` the ``N x L_t`` bool
    mask of real tokens.
    """

    layers: Sequence[int]
    grid_size: tuple[int, int]
    image_size: tuple[int, int]
    image_width: int
    text_width: int

    def normalize(self, images: Tensor) -> Tensor: ...
    def image_layer_features(self, images: Tensor) -> list[Tensor]: ...
    def text_token_features(self, token_ids: Tensor) -> Tensor: ...
    def text_token_mask(self, token_ids: Tensor) -> Tensor: ...


def build_backbone(config: CodecConfig) -> nn.Module:
    """The config's open_clip backbone (imported lazily: it needs open_clip)."""
    from uoisc_train.clip.backbone import ClipBackbone
    return ClipBackbone(config.backbone, pretrained=config.pretrained, layers=config.layers)


class UOISC(nn.Module):
    """User-oriented image semantic codec (paper Fig. 1).

    Args:
        config: the codec's hyper-parameters.
        backbone: frozen feature extractor following :class:`FeatureBackbone`;
            ``None`` builds ``ClipBackbone(config.backbone, config.pretrained,
            config.layers)``. Its layers, grid and image size must match the config.

    Attributes:
        index_error_rate: probability of replacing each index by another
            random one *in training mode* (noise-aware training); set it from
            the PHY's measured index error rate. Evaluation mode never corrupts.
    """

    def __init__(self, config: CodecConfig, backbone: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config) if backbone is None else backbone
        self._check_backbone()
        n_layers, dim = config.n_layers, config.shared_dim
        text_width = self.backbone.text_width if config.text_alignment else None
        self.projections = LayerProjections(n_layers, self.backbone.image_width, text_width, dim)
        self.film = nn.ModuleList(FiLM(dim, config.text_pooling) for _ in range(n_layers)) \
            if config.text_alignment else None
        self.quantizer = SegmentVectorQuantizer(
            dim, config.segment_length, config.codebook_size, beta=config.beta,
            usage_decay=config.usage_decay, dead_code_threshold=config.dead_code_threshold,
            erasure_token=config.erasure_token)
        self.decoder = SkipFusionDecoder(n_layers, dim, config.decoder_channels,
                                         config.grid_size, config.image_size)
        self.index_error_rate = config.index_error_rate
        _log.debug("UOISC on %s: %s indices of %d bits = %d bits per image",
                   config.backbone, "x".join(map(str, config.indices_shape)),
                   config.bits_per_index, config.bits_per_image)

    def _check_backbone(self) -> None:
        cfg, bb = self.config, self.backbone
        expected = {"layers": tuple(cfg.layers), "grid_size": (cfg.grid_size, cfg.grid_size),
                    "image_size": (cfg.image_size, cfg.image_size)}
        actual = {"layers": tuple(bb.layers), "grid_size": tuple(bb.grid_size),
                  "image_size": tuple(bb.image_size)}
        for key, value in expected.items():
            if actual[key] != value:
                raise ValueError(f"backbone {key}={actual[key]!r} does not match the codec "
                                 f"config's {value!r}")

    @property
    def index_error_rate(self) -> float:
        """Training-time index replacement probability in [0, 1]."""
        return self._index_error_rate

    @index_error_rate.setter
    def index_error_rate(self, rate: float) -> None:
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"index_error_rate={rate!r} must be in [0, 1]")
        self._index_error_rate = float(rate)

    # ---- transmitter ----------------------------------------------------------
    def _check_images(self, images: Tensor) -> None:
        size = self.config.image_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(f"images of shape {tuple(images.shape)}; expected N x 3 x {size} x {size}")

    def encode(self, images: Tensor, token_ids: Tensor | None = None) -> Tensor:
        """Aligned features ``A_l`` of every selected layer (eqs. 1-4), before VQ.

        Args:
            images: ``N x 3 x H x W`` in [0, 1].
            token_ids: ``N x L_t`` query token ids (open_clip tokenizer);
                ignored (may be ``None``) without text alignment.

        Returns:
            ``N x |L| x T x D``.
        """
        self._check_images(images)
        # No no_grad() here: a frozen backbone builds no graph anyway, and the
        # "no pretrained VLM" baseline may unfreeze it.
        layer_features = self.backbone.image_layer_features(self.backbone.normalize(images))
        projected = [self.projections.project_image(l, f) for l, f in enumerate(layer_features)]
        if self.film is not None:
            if token_ids is None or token_ids.shape[0] != images.shape[0]:
                raise ValueError("text alignment needs token_ids with one row per image, got "
                                 f"{None if token_ids is None else tuple(token_ids.shape)}")
            text = self.backbone.text_token_features(token_ids)
            mask = self.backbone.text_token_mask(token_ids)
            projected = [film(p, self.projections.project_text(l, text), mask)
                         for l, (film, p) in enumerate(zip(self.film, projected))]
        return torch.stack(projected, dim=1)

    @torch.no_grad()
    def compress(self, images: Tensor, token_ids: Tensor | None = None) -> Tensor:
        """Codeword indices to send: int64 ``N x |L| x T x S`` (eqs. 1-7)."""
        return self.quantizer.nearest(self.quantizer.split(self.encode(images, token_ids)))

    # ---- receiver -------------------------------------------------------------
    def _check_indices(self, indices: Tensor) -> None:
        expected = self.config.indices_shape
        if indices.ndim != 4 or tuple(indices.shape[1:]) != expected:
            raise ValueError(f"indices of shape {tuple(indices.shape)}; expected N x "
                             f"{' x '.join(map(str, expected))} (layers x tokens x segments)")

    def decompress(self, indices: Tensor) -> Tensor:
        """Images from (possibly corrupted) indices ``N x |L| x T x S`` (eqs. 9-10).

        Any index in ``[0, K)`` decodes, and ``K`` (= ``config.erasure_index``)
        marks an erased segment when the config has the erasure token;
        out-of-range indices raise ``ValueError``.
        """
        self._check_indices(indices)
        return self.decoder(self.quantizer.lookup(indices))

    # ---- training pass --------------------------------------------------------
    def forward(self, images: Tensor, token_ids: Tensor | None = None) -> dict[str, Tensor]:
        """Encode, quantise (straight-through), optionally corrupt, decode.

        Returns:
            ``x_hat`` (``N x 3 x H x W`` in [0, 1]), ``indices`` (int64, as
            :meth:`compress`; the clean ones), ``vq_loss`` (eq. 12),
            ``codebook_loss``, ``commitment_loss``, ``perplexity``, ``usage``,
            ``aligned`` (the encoder outputs, for dead-code restarts) and
            ``index_errors`` (fraction of indices changed by the noise hook).
        """
        aligned = self.encode(images, token_ids)
        vq = self.quantizer(aligned)
        quantized, index_errors = vq.quantized, aligned.new_zeros(())
        if self.training and self.index_error_rate > 0:
            noisy = corrupt_indices(vq.indices, self.index_error_rate, self.config.codebook_size)
            # The decoder sees the codewords of the corrupted indices; the encoder
            # still gets the straight-through gradient, as for clean indices.
            quantized = aligned + (self.quantizer.lookup(noisy) - aligned).detach()
            index_errors = (noisy != vq.indices).float().mean()
        return {
            "x_hat": self.decoder(quantized),
            "indices": vq.indices,
            "vq_loss": vq.loss,
            "codebook_loss": vq.codebook_loss,
            "commitment_loss": vq.commitment_loss,
            "perplexity": vq.perplexity,
            "usage": vq.usage,
            "aligned": aligned,
            "index_errors": index_errors,
        }

    def restart_dead_codes(self, aligned: Tensor) -> int:
        """Re-seed unused codewords from ``forward(...)["aligned"]``; returns how many."""
        return self.quantizer.restart_dead_codes(aligned)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters the optimiser should update (those requiring grad; the backbone is frozen)."""
        return [p for p in self.parameters() if p.requires_grad]
