"""VLF-MSC transmitter: one CLIP image embedding per image, quantised (``docs/vlf.md``).

VLF-MSC (``shared/papers/vlf-msc.txt``) sends a single vision-language feature per
image instead of UO-ISC's per-layer token features: the backbone's pooled,
projected, unit-norm image embedding (``ClipBackbone.image_embedding``, ``N x E``).
Optionally the query modulates it with UO-ISC's FiLM (paper eqs. 3-4 applied to the
one pooled token). The feature is then quantised by

* ``"vq"``: segment-wise VQ with one codebook per segment (UO-ISC eqs. 5-7, 9),
  ``E / l_s`` indices of ``log2 K`` bits, or
* ``"scalar"``: a uniform quantiser with ``b`` bits per dimension, ``E`` levels.

``compress``/``dequantize`` are the two halves that run on either side of the
channel; ``forward`` is the training pass.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from uoisc_train.codec.film import FiLM
from uoisc_train.codec.vq import SegmentVectorQuantizer
from uoisc_train.vlf.config import VlfConfig
from uoisc_train.vlf.quantizers import ScalarQuantizer, fit_codebooks

__all__ = ["VlfTransmitter"]


class VlfTransmitter(nn.Module):
    """Frozen CLIP image embedding -> (FiLM) -> quantiser.

    Args:
        config: the transmitter's :class:`VlfConfig`.
        backbone: a ``ClipBackbone`` (or an object with its ``normalize``,
            ``image_embedding``, ``text_token_features``, ``text_token_mask``,
            ``embed_dim``, ``text_width`` and ``image_size``); built from
            ``config.backbone``/``config.pretrained`` when ``None``.

    Raises:
        ValueError: the backbone's embedding size or image size disagrees with the config.
    """

    def __init__(self, config: VlfConfig, backbone: nn.Module | None = None):
        super().__init__()
        if backbone is None:
            from uoisc_train.clip import ClipBackbone
            backbone = ClipBackbone(config.backbone, config.pretrained)
        if backbone.embed_dim != config.embed_dim:
            raise ValueError(f"backbone embed_dim {backbone.embed_dim} != config embed_dim "
                             f"{config.embed_dim}")
        if tuple(backbone.image_size) != (config.image_size, config.image_size):
            raise ValueError(f"backbone image size {tuple(backbone.image_size)} != config "
                             f"image_size {config.image_size}")
        self.config = config
        self.backbone = backbone
        if config.query_modulation:
            self.text_projection = nn.Linear(backbone.text_width, config.embed_dim)
            self.film = FiLM(config.embed_dim, config.text_pooling)
        else:
            self.text_projection = self.film = None
        if config.quantizer == "vq":
            self.quantizer = SegmentVectorQuantizer(
                config.embed_dim, config.segment_length, config.codebook_size, beta=config.beta,
                usage_decay=config.usage_decay, dead_code_threshold=config.dead_code_threshold)
        else:
            self.quantizer = ScalarQuantizer(config.embed_dim, config.scalar_bits)

    # ---- transmitter ----------------------------------------------------------
    def encode(self, images: Tensor, token_ids: Tensor | None = None) -> Tensor:
        """The VLF feature before quantisation, ``N x E``.

        Args:
            images: ``N x 3 x H x W`` in [0, 1] (normalised here).
            token_ids: ``N x L_t`` query token ids (open_clip tokenizer); needed
                with query modulation, ignored (may be ``None``) without.
        """
        size = self.config.image_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(f"images of shape {tuple(images.shape)}; expected N x 3 x {size} x {size}")
        feature = self.backbone.image_embedding(self.backbone.normalize(images))
        if self.film is None:
            return feature
        if token_ids is None or token_ids.shape[0] != images.shape[0]:
            raise ValueError("query modulation needs token_ids with one row per image, got "
                             f"{None if token_ids is None else tuple(token_ids.shape)}")
        text = self.text_projection(self.backbone.text_token_features(token_ids))
        mask = self.backbone.text_token_mask(token_ids)
        return self.film(feature.unsqueeze(1), text, mask).squeeze(1)

    def quantize_feature(self, feature: Tensor) -> Tensor:
        """int64 ``N x n_codes`` indices (VQ) or levels (scalar) of ``N x E`` features."""
        if self.config.quantizer == "vq":
            return self.quantizer.nearest(self.quantizer.split(feature))
        return self.quantizer.quantize(feature)

    @torch.no_grad()
    def compress(self, images: Tensor, token_ids: Tensor | None = None) -> Tensor:
        """What is sent: int64 ``N x n_codes`` (``config.bits_per_index`` bits each)."""
        return self.quantize_feature(self.encode(images, token_ids))

    # ---- receiver --------------------------------------------------------------
    def dequantize(self, indices: Tensor) -> Tensor:
        """The receiver's feature ``N x E`` from (possibly corrupted) ``N x n_codes`` integers.

        Any value in ``[0, n_levels)`` decodes; anything else raises ``ValueError``.
        """
        if indices.ndim != 2 or indices.shape[1] != self.config.n_codes:
            raise ValueError(f"indices of shape {tuple(indices.shape)}; expected N x {self.config.n_codes}")
        return self.quantizer.lookup(indices)

    # ---- training ----------------------------------------------------------------
    def forward(self, images: Tensor, token_ids: Tensor | None = None) -> dict[str, Tensor]:
        """Encode and quantise with a straight-through gradient.

        Returns:
            ``feature`` (``N x E``), ``feature_hat`` (quantised, gradient copied to
            ``feature``), ``indices`` (int64 ``N x n_codes``), ``loss`` (VQ eq. 12;
            zero for the scalar quantiser, which has no parameters) and
            ``cosine`` (mean cosine similarity of ``feature_hat`` to ``feature``).
        """
        feature = self.encode(images, token_ids)
        if self.config.quantizer == "vq":
            out = self.quantizer(feature)
            feature_hat, indices, loss = out.quantized, out.indices, out.loss
        else:
            feature_hat, indices = self.quantizer(feature)
            loss = feature.new_zeros(())
        cosine = nn.functional.cosine_similarity(feature_hat.detach(), feature.detach(), dim=-1)
        return {"feature": feature, "feature_hat": feature_hat, "indices": indices,
                "loss": loss, "cosine": cosine.mean()}

    @torch.no_grad()
    def fit_quantizer(self, features: Tensor, iterations: int = 20, seed: int = 0) -> float:
        """Fit the quantiser to ``M x E`` features (k-means codebooks or scalar ranges).

        Returns:
            Mean squared quantisation error per element after fitting.
        """
        if self.config.quantizer == "vq":
            return fit_codebooks(self.quantizer, features, iterations=iterations, seed=seed)
        self.quantizer.calibrate(features)
        return float((self.quantizer.lookup(self.quantizer.quantize(features)) - features).pow(2).mean())
