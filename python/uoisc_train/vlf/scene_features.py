"""The VLF feature of generated scenes: ``ClipBackbone.image_embedding`` of their images.

Shared by the receivers' trainers and the quantiser comparison, so every one of
them feeds the backbone the same way (uint8 HWC -> [0, 1] NCHW -> normalise).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["images_to_tensor", "embed_images", "embed_scenes"]


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``N x H x W x 3`` -> float32 ``N x 3 x H x W`` in [0, 1]."""
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 N x H x W x 3, got {images.dtype} {images.shape}")
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


@torch.no_grad()
def embed_images(backbone, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """``N x E`` unit-norm embeddings of ``N x 3 x H x W`` images in [0, 1], in batches."""
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be >= 1")
    return torch.cat([backbone.image_embedding(backbone.normalize(images[i:i + batch_size]))
                      for i in range(0, len(images), batch_size)])


def embed_scenes(backbone, scenes: Sequence, batch_size: int = 256) -> torch.Tensor:
    """``N x E`` VLF features of generated scenes (``Scene.image``)."""
    if not scenes:
        raise ValueError("embed_scenes needs at least one scene")
    return embed_images(backbone, images_to_tensor(np.stack([s.image for s in scenes])), batch_size)
