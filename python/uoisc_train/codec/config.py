"""Hyper-parameters of one UO-ISC codec, serialisable to JSON.

One :class:`CodecConfig` fixes everything the encoder and decoder must agree
on (backbone, selected layers, shared dimension, segment length ``l_s``,
codebook size ``K``) plus the loss weights of eqs. 12-14, so a run directory,
a checkpoint and (later) an exported bundle can all carry the same JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["CodecConfig", "TEXT_POOLINGS"]

#: How the query's token features are pooled before FiLM (see ``film.py``).
TEXT_POOLINGS = ("attention", "mean")


@dataclass(frozen=True)
class CodecConfig:
    """Everything that defines a UO-ISC codec (paper Sections II-III).

    The defaults are the project's tiny codec: ``uoisc-tiny-clip`` (64x64
    images, patch 8, so an 8x8 token grid, 6 ViT layers of which 3 are sent).

    Args:
        backbone: open_clip config name (``"uoisc-tiny-clip"``, ``"ViT-B-16"``).
        pretrained: weights for the backbone, as ``ClipBackbone`` accepts them
            (``None`` = random init, ``"openai"``, a checkpoint file or model folder).
        layers: 1-based ViT layers whose features are sent (the paper's set L),
            increasing; the decoder has one conv block per layer.
        image_size: input and output image side in pixels (square images).
        grid_size: side of the backbone's patch-token grid (image_size / patch).
        shared_dim: shared embedding dimension ``D`` of eqs. 1-2.
        segment_length: ``l_s``, the length of one VQ segment; divides ``shared_dim``.
        codebook_size: ``K``, codewords per segment codebook.
        decoder_channels: channels ``C`` of every decoder conv block.
        text_alignment: ``False`` builds the "no text alignment" baseline
            (no text tower, no FiLM).
        text_pooling: ``"attention"`` (per image token) or ``"mean"`` (masked
            mean over the query tokens); see ``film.py``.
        beta: commitment weight of eq. 12.
        lambda_mse: ``lambda_1`` of eq. 13.
        lambda_relevance: ``lambda_2`` of eq. 13 (0 disables the judge).
        lambda_adversarial: ``lambda_3`` of eq. 14.
        index_error_rate: probability that a sent index is replaced by another
            one during training (noise-aware training); 0 disables it.
        erasure_token: give every segment codebook one extra learned row, index
            ``K``, that the *decoder* reads for an erased index (a codeword whose
            CRC failed). The encoder never emits it, so indices and bits on air
            are those of the same codec without it.
        usage_decay: decay of the exponential moving average of codeword usage.
        dead_code_threshold: a codeword whose average usage falls below
            ``dead_code_threshold / K`` is restarted from encoder outputs.

    Raises:
        ValueError: any value out of range, naming the field and the value.
    """

    backbone: str = "uoisc-tiny-clip"
    pretrained: str | None = None
    layers: tuple[int, ...] = (2, 4, 6)
    image_size: int = 64
    grid_size: int = 8
    shared_dim: int = 64
    segment_length: int = 8
    codebook_size: int = 256
    decoder_channels: int = 64
    text_alignment: bool = True
    text_pooling: str = "attention"
    beta: float = 0.25
    lambda_mse: float = 1.0
    lambda_relevance: float = 1.0
    lambda_adversarial: float = 0.1
    index_error_rate: float = 0.0
    erasure_token: bool = False
    usage_decay: float = 0.95
    dead_code_threshold: float = 0.1

    def __post_init__(self) -> None:
        # Accept any sequence for layers (JSON gives lists) but store a tuple.
        if not isinstance(self.layers, (list, tuple)):
            raise ValueError(f"layers={self.layers!r} must be a sequence of integers")
        object.__setattr__(self, "layers", tuple(self.layers))
        self._validate()

    def _validate(self) -> None:
        if not isinstance(self.backbone, str) or not self.backbone:
            raise ValueError(f"backbone={self.backbone!r} must be a non-empty string")
        if self.pretrained is not None and not isinstance(self.pretrained, str):
            raise ValueError(f"pretrained={self.pretrained!r} must be None or a string")
        if (not self.layers or any(not _is_int(l) or l < 1 for l in self.layers)
                or list(self.layers) != sorted(set(self.layers))):
            raise ValueError(f"layers={self.layers!r} must be increasing distinct integers >= 1")
        for name in ("image_size", "grid_size", "shared_dim", "segment_length",
                     "decoder_channels"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.image_size % self.grid_size:
            raise ValueError(f"image_size={self.image_size} is not a multiple of "
                             f"grid_size={self.grid_size} (patch size must be an integer)")
        if self.shared_dim % self.segment_length:
            raise ValueError(f"segment_length={self.segment_length} does not divide "
                             f"shared_dim={self.shared_dim}")
        if not _is_int(self.codebook_size) or self.codebook_size < 2:
            raise ValueError(f"codebook_size={self.codebook_size!r} must be an integer >= 2")
        for name in ("text_alignment", "erasure_token"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a bool")
        if self.text_pooling not in TEXT_POOLINGS:
            raise ValueError(f"text_pooling={self.text_pooling!r} must be one of {TEXT_POOLINGS}")
        for name in ("beta", "lambda_mse", "lambda_relevance", "lambda_adversarial",
                     "dead_code_threshold"):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name}={value!r} must be a finite number >= 0")
        if not _is_real(self.index_error_rate) or not 0.0 <= self.index_error_rate <= 1.0:
            raise ValueError(f"index_error_rate={self.index_error_rate!r} must be in [0, 1]")
        if not _is_real(self.usage_decay) or not 0.0 < self.usage_decay < 1.0:
            raise ValueError(f"usage_decay={self.usage_decay!r} must be in (0, 1)")

    # ---- derived quantities -------------------------------------------------
    @property
    def n_layers(self) -> int:
        """Number of selected layers |L| (= decoder conv blocks)."""
        return len(self.layers)

    @property
    def n_tokens(self) -> int:
        """Patch tokens per layer, ``grid_size**2`` (class token not sent)."""
        return self.grid_size * self.grid_size

    @property
    def n_segments(self) -> int:
        """Segments per embedding vector, ``shared_dim / segment_length``."""
        return self.shared_dim // self.segment_length

    @property
    def bits_per_index(self) -> int:
        """``ceil(log2 K)``: bits needed to send one codeword index."""
        return (self.codebook_size - 1).bit_length()

    @property
    def erasure_index(self) -> int | None:
        """``K``, the decoder-only index of an erased segment, or None without the erasure token."""
        return self.codebook_size if self.erasure_token else None

    @property
    def indices_shape(self) -> tuple[int, int, int]:
        """Shape of one image's indices: layers x tokens x segments."""
        return (self.n_layers, self.n_tokens, self.n_segments)

    @property
    def n_indices(self) -> int:
        """Codeword indices sent per image."""
        return self.n_layers * self.n_tokens * self.n_segments

    @property
    def bits_per_image(self) -> int:
        """Payload bits per image before channel coding."""
        return self.n_indices * self.bits_per_index

    # ---- serialisation ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of the fields (layers as a list)."""
        data = dataclasses.asdict(self)
        data["layers"] = list(self.layers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CodecConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"a CodecConfig needs a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown CodecConfig fields {unknown!r}")
        return cls(**data)

    def to_json(self) -> str:
        """JSON text with sorted keys (stable for hashing and diffs)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CodecConfig":
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> "CodecConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
