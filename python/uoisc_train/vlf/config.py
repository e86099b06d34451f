"""Hyper-parameters of one VLF-MSC transmitter, serialisable to JSON.

A :class:`VlfConfig` fixes what the transmitter and the receiver must agree on
to read the same bits: the backbone whose pooled image embedding is sent, the
quantiser and its geometry, and whether the query modulates the feature. The
number of bits per feature follows from it (:attr:`VlfConfig.bits_per_feature`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

from uoisc_train.codec.config import TEXT_POOLINGS

__all__ = ["VlfConfig", "QUANTIZERS"]

#: ``"vq"``: segment-wise VQ, one codebook per segment (as UO-ISC, paper eqs. 5-7);
#: ``"scalar"``: uniform per-dimension quantiser with ``scalar_bits`` bits.
QUANTIZERS = ("vq", "scalar")


@dataclass(frozen=True)
class VlfConfig:
    """Everything that defines a VLF-MSC transmitter (``docs/vlf.md``).

    Defaults: the tiny CLIP's 128-dim embedding, VQ with 32 segments of 4
    values and 256 codewords each = 256 bits per image.

    Args:
        backbone: open_clip config name whose pooled image embedding is sent.
        pretrained: backbone weights, as ``ClipBackbone`` accepts them.
        embed_dim: ``E``, size of the embedding (``ClipBackbone.embed_dim``).
        image_size: input image side in pixels.
        quantizer: one of :data:`QUANTIZERS`.
        segment_length: VQ segment length ``l_s`` (divides ``embed_dim``).
        codebook_size: VQ codewords per segment ``K`` (>= 2).
        scalar_bits: bits per dimension of the scalar quantiser (1..16).
        query_modulation: FiLM the embedding with the query's text features.
        text_pooling: FiLM's pooling of the query tokens (``film.py``).
        beta: VQ commitment weight (eq. 12).
        usage_decay, dead_code_threshold: VQ codeword-restart settings (``vq.py``).

    Raises:
        ValueError: any value out of range, naming the field and the value.
    """

    backbone: str = "uoisc-tiny-clip"
    pretrained: str | None = None
    embed_dim: int = 128
    image_size: int = 64
    quantizer: str = "vq"
    segment_length: int = 4
    codebook_size: int = 256
    scalar_bits: int = 2
    query_modulation: bool = False
    text_pooling: str = "mean"
    beta: float = 0.25
    usage_decay: float = 0.95
    dead_code_threshold: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.backbone, str) or not self.backbone:
            raise ValueError(f"backbone={self.backbone!r} must be a non-empty string")
        if self.pretrained is not None and not isinstance(self.pretrained, str):
            raise ValueError(f"pretrained={self.pretrained!r} must be None or a string")
        for name in ("embed_dim", "image_size", "segment_length"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.quantizer not in QUANTIZERS:
            raise ValueError(f"quantizer={self.quantizer!r} must be one of {QUANTIZERS}")
        if self.embed_dim % self.segment_length:
            raise ValueError(f"segment_length={self.segment_length} does not divide "
                             f"embed_dim={self.embed_dim}")
        if not _is_int(self.codebook_size) or self.codebook_size < 2:
            raise ValueError(f"codebook_size={self.codebook_size!r} must be an integer >= 2")
        if not _is_int(self.scalar_bits) or not 1 <= self.scalar_bits <= 16:
            raise ValueError(f"scalar_bits={self.scalar_bits!r} must be an integer in [1, 16]")
        if not isinstance(self.query_modulation, bool):
            raise ValueError(f"query_modulation={self.query_modulation!r} must be a bool")
        if self.text_pooling not in TEXT_POOLINGS:
            raise ValueError(f"text_pooling={self.text_pooling!r} must be one of {TEXT_POOLINGS}")
        for name in ("beta", "dead_code_threshold"):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name}={value!r} must be a finite number >= 0")
        if not _is_real(self.usage_decay) or not 0.0 < self.usage_decay < 1.0:
            raise ValueError(f"usage_decay={self.usage_decay!r} must be in (0, 1)")

    # ---- derived quantities -------------------------------------------------
    @property
    def n_codes(self) -> int:
        """Integers sent per image: ``E / l_s`` VQ indices or ``E`` scalar levels."""
        return self.embed_dim // self.segment_length if self.quantizer == "vq" else self.embed_dim

    @property
    def n_levels(self) -> int:
        """Values each sent integer can take: ``K`` (VQ) or ``2**scalar_bits``."""
        return self.codebook_size if self.quantizer == "vq" else 2 ** self.scalar_bits

    @property
    def bits_per_index(self) -> int:
        """``ceil(log2 n_levels)``: bits needed to send one integer."""
        return (self.n_levels - 1).bit_length()

    @property
    def bits_per_feature(self) -> int:
        """Payload bits per image before channel coding."""
        return self.n_codes * self.bits_per_index

    # ---- serialisation ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of the fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "VlfConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"a VlfConfig needs a dict, got {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown VlfConfig fields {unknown!r}")
        return cls(**data)

    def to_json(self) -> str:
        """JSON text with sorted keys (stable for hashing and diffs)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "VlfConfig":
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> "VlfConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
