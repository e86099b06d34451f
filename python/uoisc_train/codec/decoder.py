"""U-Net-like decoder from the reconstructed layer embeddings (paper eq. 10).

The reconstructed embeddings of each selected layer (``N x T x D``, tokens in
row-major order) are reshaped to ``N x D x g x g`` maps (``g`` = token grid
side). The decoder has one conv block per selected layer and walks the
layers from the deepest:

* block 1 takes the deepest layer's map;
* block ``k > 1`` takes ``fuse_k([up_k(E_k), Y_{k-1}])``: the layer's map
  brought by a learnable upsampling ``up_k`` (one transposed conv with
  kernel = stride = ``2**(k-1)``) to the size of the previous block's output
  ``Y_{k-1}``, concatenated with it and merged by a fusion MLP of 1x1 convs;
* every block is 2 x (3x3 conv, InstanceNorm, LeakyReLU) + a 4x4 transposed
  conv with stride 2 (x2 upsampling), ``C`` output channels throughout.

Grid -> image size: after ``|L|`` blocks the map is ``g * 2**|L|`` pixels
wide. With ``|L| = log2(patch)`` this is exactly the image: the tiny config
(64x64, patch 8, grid 8, 3 layers: 8 -> 16 -> 32 -> 64) and ViT-B/16
(224x224, grid 14, 4 layers: 14 -> 28 -> 56 -> 112 -> 224). For any other
choice the final map is resized bilinearly to the image size before the head
(a fixed resampling, exportable to ONNX as ``Resize``). The head is a 3x3
conv to RGB followed by a sigmoid, so images are in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ConvBlock", "SkipFusion", "SkipFusionDecoder", "tokens_to_map"]


def tokens_to_map(tokens: Tensor, grid_size: int) -> Tensor:
    """``N x T x D`` row-major tokens -> ``N x D x g x g`` with ``T = g * g``."""
    n, t, d = tokens.shape
    if t != grid_size * grid_size:
        raise ValueError(f"{t} tokens do not fill a {grid_size}x{grid_size} grid")
    return tokens.transpose(1, 2).reshape(n, d, grid_size, grid_size)


class ConvBlock(nn.Module):
    """One decoder layer ``h_k``: 2 x (conv, InstanceNorm, LeakyReLU) + x2 transposed conv."""

    def __init__(self, in_channels: int, channels: int):
        super().__init__()
        layers: list[nn.Module] = []
        for c_in in (in_channels, channels):
            layers += [nn.Conv2d(c_in, channels, 3, padding=1),
                       nn.InstanceNorm2d(channels, affine=True),
                       nn.LeakyReLU(0.2)]
        layers.append(nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """``N x C_in x h x w`` -> ``N x C x 2h x 2w``."""
        return self.net(x)


class SkipFusion(nn.Module):
    """Learnable upsampling of a layer's map and fusion MLP with the previous output.

    Args:
        embed_dim: channels ``D`` of the layer's reconstructed map.
        channels: decoder channels ``C``.
        scale: upsampling factor (a power of two) from the token grid to the
            previous block's output.
    """

    def __init__(self, embed_dim: int, channels: int, scale: int):
        super().__init__()
        self.upsample = nn.ConvTranspose2d(embed_dim, channels, scale, stride=scale)
        self.fuse = nn.Sequential(nn.Conv2d(2 * channels, channels, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(channels, channels, 1))

    def forward(self, layer_map: Tensor, previous: Tensor) -> Tensor:
        """``fuse([up(E), Y])``, ``N x C x h x w`` like ``previous``."""
        return self.fuse(torch.cat([self.upsample(layer_map), previous], dim=1))


class SkipFusionDecoder(nn.Module):
    """Decoder ``g_theta`` of eq. 10 plus the image head.

    Args:
        n_layers: number of selected layers |L| (= conv blocks).
        embed_dim: shared dimension ``D`` of the reconstructed embeddings.
        channels: ``C``, channels of every block.
        grid_size: token grid side ``g``.
        image_size: output image side.
    """

    def __init__(self, n_layers: int, embed_dim: int, channels: int, grid_size: int,
                 image_size: int):
        super().__init__()
        if min(n_layers, embed_dim, channels, grid_size, image_size) < 1:
            raise ValueError(f"decoder sizes must be positive: n_layers={n_layers}, "
                             f"embed_dim={embed_dim}, channels={channels}, "
                             f"grid_size={grid_size}, image_size={image_size}")
        self.grid_size = grid_size
        self.image_size = image_size
        self.blocks = nn.ModuleList(
            ConvBlock(embed_dim if k == 0 else channels, channels) for k in range(n_layers))
        self.skips = nn.ModuleList(
            SkipFusion(embed_dim, channels, 2 ** k) for k in range(1, n_layers))
        self.head = nn.Conv2d(channels, 3, 3, padding=1)

    @property
    def output_grid(self) -> int:
        """Side of the last block's output before any resize."""
        return self.grid_size * 2 ** len(self.blocks)

    def forward(self, embeddings: Tensor) -> Tensor:
        """Decode reconstructed embeddings to images.

        Args:
            embeddings: ``N x |L| x T x D``, layers in the config's (shallow ->
                deep) order.

        Returns:
            ``N x 3 x H x W`` images in [0, 1].
        """
        if embeddings.ndim != 4 or embeddings.shape[1] != len(self.blocks):
            raise ValueError(f"embeddings of shape {tuple(embeddings.shape)}; expected "
                             f"N x {len(self.blocks)} x T x D")
        maps = [tokens_to_map(embeddings[:, l], self.grid_size)
                for l in range(embeddings.shape[1])][::-1]          # deepest first
        y = self.blocks[0](maps[0])
        for block, skip, layer_map in zip(self.blocks[1:], self.skips, maps[1:]):
            y = block(skip(layer_map, y))
        if self.output_grid != self.image_size:
            y = F.interpolate(y, size=(self.image_size, self.image_size), mode="bilinear",
                              align_corners=False)
        return torch.sigmoid(self.head(y))
