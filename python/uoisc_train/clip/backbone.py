"""Frozen open_clip towers exposing per-layer ViT features (paper Section II).

The UO-ISC transmitter reads the hidden states of a subset of the CLIP vision
transformer's layers (one matrix per selected layer, eq. 1) and the per-token
output of the text transformer (eq. 2). :class:`ClipBackbone` gives exactly
those for any open_clip ViT config: the project's ``uoisc-tiny-clip`` (offline
world, shipped weights) or ``ViT-B-16`` with ``pretrained='openai'`` (users).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from uoisc_train.compat import import_open_clip
from uoisc_train.clip.registry import register_model_configs

__all__ = ["ClipBackbone", "WeightsUnavailableError"]

_log = logging.getLogger(__name__)


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights could not be found locally nor downloaded."""


def _create_open_clip_model(model_name: str, pretrained: str | None) -> nn.Module:
    """open_clip model with random init (None), a pretrained tag or a checkpoint file."""
    open_clip = import_open_clip()
    register_model_configs()
    if model_name not in open_clip.list_models():
        raise ValueError(f"unknown open_clip model {model_name!r}")
    if pretrained is not None and Path(pretrained).is_dir():
        from uoisc_train.clip.tiny import load_clip_artefact
        return load_clip_artefact(pretrained, expected_model_name=model_name)
    if pretrained is not None and not Path(pretrained).is_file():
        known_tags = open_clip.list_pretrained_tags_by_model(model_name)
        if pretrained not in known_tags:
            raise ValueError(f"pretrained={pretrained!r} is neither a file, a model folder nor a "
                             f"known tag of {model_name} ({known_tags})")
    try:
        return open_clip.create_model(model_name, pretrained=pretrained)
    except RuntimeError as error:
        # open_clip raises RuntimeError("Failed to download weights ...") when the
        # hub cannot be reached and nothing is cached.
        if pretrained is not None and "download" in str(error).lower():
            raise WeightsUnavailableError(
                f"cannot get weights {model_name}/{pretrained}: no internet and nothing in the "
                f"local cache. Download them on a connected machine (open_clip caches them in "
                f"~/.cache/huggingface) or pass a local checkpoint path as pretrained=. "
                f"Original error: {error}") from error
        raise


class ClipBackbone(nn.Module):
    """Frozen open_clip image and text towers with per-layer outputs.

    Image features are the outputs of the selected vision transformer blocks
    (``layers`` are 1-based: layer ``l`` is the output of the ``l``-th
    residual block, as in the paper's ``l = 1..L``), **without the class token**:
    each is ``N x T x D`` with ``T = (H/patch) * (W/patch)`` patch tokens in
    row-major order, so the decoder can reshape them to ``D x H/p x W/p``.
    No final LayerNorm or projection is applied to them.

    Text features are the per-token outputs of the text transformer after its
    final LayerNorm (before pooling and projection), ``N x L x D_text``.

    All parameters are frozen and the module always stays in eval mode;
    gradients can still flow to the *inputs* if the caller needs them.

    Args:
        model_name: an open_clip config name, e.g. ``"uoisc-tiny-clip"`` or ``"ViT-B-16"``.
        pretrained: ``None`` (random init, for tests), an open_clip tag such as
            ``"openai"`` (downloaded by open_clip), a checkpoint file, or a
            project model folder (``models/uoisc-tiny-clip``, hash-checked).
        layers: 1-based indices of the vision layers to expose, increasing;
            ``None`` selects every layer.

    Raises:
        ValueError: unknown model, unknown tag, a non-ViT vision tower, or bad layers.
        WeightsUnavailableError: weights cannot be downloaded (offline) and
            are not cached.
    """

    def __init__(self, model_name: str, pretrained: str | None = None,
                 layers: Sequence[int] | None = None):
        super().__init__()
        open_clip = import_open_clip()
        self.model_name = model_name
        self.model = _create_open_clip_model(model_name, pretrained)
        visual = self.model.visual
        if not hasattr(visual, "transformer") or not hasattr(visual, "patch_size"):
            raise ValueError(f"{model_name} has no open_clip ViT vision tower "
                             f"({type(visual).__name__}); only ViT configs are supported")
        n_layers = len(visual.transformer.resblocks)
        self.layers = tuple(range(1, n_layers + 1)) if layers is None else tuple(int(l) for l in layers)
        if (not self.layers or any(l < 1 or l > n_layers for l in self.layers)
                or list(self.layers) != sorted(set(self.layers))):
            raise ValueError(f"layers={layers!r} must be increasing distinct values in 1..{n_layers}")
        self.model.requires_grad_(False)
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(model_name)
        # image_mean/std travel with the weights' preprocessing config (open_clip habit).
        self.register_buffer("mean", torch.tensor(visual.image_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(visual.image_std).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> "ClipBackbone":
        """Frozen towers: always eval, whatever the parent module asks."""
        return super().train(False)

    @property
    def image_size(self) -> tuple[int, int]:
        """Input height and width the tower expects."""
        return tuple(self.model.visual.image_size)

    @property
    def grid_size(self) -> tuple[int, int]:
        """Patch-token grid ``(H/p, W/p)`` of every image layer feature."""
        return tuple(self.model.visual.grid_size)

    @property
    def image_width(self) -> int:
        """Channel width ``D`` of the image layer features."""
        return self.model.visual.transformer.width

    @property
    def text_width(self) -> int:
        """Channel width of the text token features."""
        return self.model.ln_final.normalized_shape[0] if hasattr(self.model, "ln_final") \
            else self.model.text.ln_final.normalized_shape[0]

    @property
    def context_length(self) -> int:
        """Number of text tokens ``L`` produced by :meth:`tokenize`."""
        return self.tokenizer.context_length

    def tokenize(self, texts: str | Sequence[str]) -> torch.Tensor:
        """open_clip token ids ``N x L`` (start, BPE tokens, end, zero padding)."""
        return self.tokenizer(texts)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Apply the tower's mean/std to ``N x 3 x H x W`` images with values in [0, 1]."""
        return (images - self.mean) / self.std

    def image_layer_features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Hidden states of the selected layers, class token dropped.

        Args:
            images: ``N x 3 x H x W``, already normalised (open_clip preprocessing
                or :meth:`normalize`), ``H x W`` equal to :attr:`image_size`.

        Returns:
            One ``N x T x D`` tensor per entry of :attr:`layers`.
        """
        if images.ndim != 4 or tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(f"images of shape {tuple(images.shape)}; expected N x 3 x {self.image_size}")
        out = self.model.visual.forward_intermediates(
            images, indices=[l - 1 for l in self.layers], stop_early=True,
            intermediates_only=True, output_fmt="NLC")
        return out["image_intermediates"]

    @property
    def embed_dim(self) -> int:
        """Size ``E`` of the joint image-text embedding (:meth:`image_embedding`)."""
        return int(self.model.visual.output_dim)

    def image_embedding(self, images: torch.Tensor) -> torch.Tensor:
        """CLIP's pooled image embedding, L2-normalised: ``N x E``.

        The one vision-language feature VLF-MSC transmits (``uoisc_train.vlf``): the
        class token after the final LayerNorm and projection into the joint space, scaled
        to unit norm as CLIP compares it with text (and as unCLIP conditions on it).

        Args:
            images: ``N x 3 x H x W``, already normalised (see :meth:`normalize`).
        """
        if images.ndim != 4 or tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(f"images of shape {tuple(images.shape)}; expected N x 3 x {self.image_size}")
        return nn.functional.normalize(self.model.encode_image(images), dim=-1)

    def text_token_features(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Per-token text transformer output after the final LayerNorm, ``N x L x D_text``."""
        out = self.model.forward_intermediates(
            text=token_ids, text_indices=1, normalize_intermediates=True, intermediates_only=True)
        return out["text_intermediates"][-1]

    @staticmethod
    def text_token_mask(token_ids: torch.Tensor) -> torch.Tensor:
        """``N x L`` bool, True for real tokens (start .. end), False for padding."""
        return token_ids != 0
