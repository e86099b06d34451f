"""The compact U-Net denoiser ``eps_theta(x_t, t, f)`` of the VLF-MSC image receiver.

A DDPM U-Net (Ho et al. 2020) cut down for 32x32 samples on a CPU: residual blocks with
GroupNorm, one self-attention layer at the coarsest level, and a single embedding of the
timestep plus the received VLF feature ``f`` (the CLIP image embedding, ``N x E``) that
modulates every residual block by FiLM (scale and shift after its second GroupNorm, the
"scale-shift norm" of Dhariwal & Nichol 2021). Classifier-free guidance needs an
unconditional prediction: a learned null vector replaces ``f`` where ``uncond`` is 1.

Every operation exports to ONNX (opset 17) with the legacy exporter: attention is
written with matmul/softmax and the timestep embedding with sin/cos.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from uoisc_train.vlf.diffusion_config import DiffusionConfig

__all__ = ["timestep_embedding", "ConditionalUNet"]


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding ``N x dim`` of (possibly fractional) timesteps ``N`` (Transformer style).

    Args:
        timesteps: ``N`` float or integer timesteps.
        dim: embedding size (even).
        max_period: the longest wavelength.
    """
    if dim % 2:
        raise ValueError(f"dim={dim} must be even")
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32,
                                                                  device=timesteps.device) / half)
    angles = timesteps.float()[:, None] * frequencies[None, :]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class _ResidualBlock(nn.Module):
    """GN-SiLU-conv, FiLM from the embedding, GN-SiLU-conv, plus a (1x1) skip."""

    def __init__(self, in_channels: int, out_channels: int, embed_dim: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.film = nn.Linear(embed_dim, 2 * out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        # Zero-initialised last conv: every block starts as the identity (stable early training).
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = (nn.Identity() if in_channels == out_channels
                     else nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(F.silu(embedding))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        return self.skip(x) + self.conv2(F.silu(h))


class _SelfAttention(nn.Module):
    """Single-head self-attention over the pixels of a (coarse) feature map, residual."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        self.scale = 1.0 / math.sqrt(channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, c, h * w).unbind(1)
        weights = torch.softmax(q.transpose(1, 2) @ k * self.scale, dim=-1)  # N x HW x HW
        attended = (v @ weights.transpose(1, 2)).reshape(n, c, h, w)
        return x + self.out(attended)


class _Level(nn.Module):
    """The residual blocks (and optional attention) of one U-Net resolution level."""

    def __init__(self, in_channels: int, out_channels: int, n_blocks: int, embed_dim: int,
                 groups: int, attention: bool):
        super().__init__()
        self.blocks = nn.ModuleList(
            _ResidualBlock(in_channels if i == 0 else out_channels, out_channels, embed_dim, groups)
            for i in range(n_blocks))
        self.attention = _SelfAttention(out_channels, groups) if attention else nn.Identity()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, embedding)
        return self.attention(x)


class ConditionalUNet(nn.Module):
    """``eps_theta(x_t, t, f)``: predicts the noise in ``x_t`` given the timestep and the feature.

    Args:
        config: the model's :class:`DiffusionConfig`.

    Inputs of :meth:`forward` (batch-first):
        ``x``: ``N x 3 x S x S`` noisy samples (``S = config.sample_size``, data in [-1, 1]);
        ``t``: ``N`` timesteps in ``[0, T)`` (float or integer);
        ``feature``: ``N x E`` VLF features (any float values);
        ``uncond``: optional ``N`` weights in {0, 1}; 1 replaces the feature by the learned
        null vector (the unconditional branch of classifier-free guidance).
    """

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        self.config = config
        channels, embed = config.channels, config.embed_dim
        self.null_feature = nn.Parameter(torch.zeros(config.feature_dim))
        self.time_mlp = nn.Sequential(nn.Linear(embed, embed), nn.SiLU(), nn.Linear(embed, embed))
        self.feature_mlp = nn.Sequential(nn.Linear(config.feature_dim, embed), nn.SiLU(),
                                         nn.Linear(embed, embed))
        self.stem = nn.Conv2d(3, channels[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        previous = channels[0]
        for level, width in enumerate(channels):
            self.down.append(_Level(previous, width, config.blocks_per_level, embed, config.groups,
                                    level in config.attention_levels))
            previous = width
            if level < len(channels) - 1:
                self.downsample.append(nn.Conv2d(width, width, 3, stride=2, padding=1))
        self.middle = _ResidualBlock(previous, previous, embed, config.groups)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level in reversed(range(len(channels))):
            width = channels[level]
            # Input: the deeper path concatenated with this level's skip connection.
            self.up.append(_Level(previous + width, width, config.blocks_per_level + 1, embed,
                                  config.groups, level in config.attention_levels))
            previous = width
            if level > 0:
                self.upsample.append(nn.Conv2d(width, width, 3, padding=1))
        self.head = nn.Sequential(nn.GroupNorm(config.groups, channels[0]), nn.SiLU(),
                                  nn.Conv2d(channels[0], 3, 3, padding=1))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def condition(self, t: torch.Tensor, feature: torch.Tensor,
                  uncond: torch.Tensor | None = None) -> torch.Tensor:
        """The ``N x embed_dim`` embedding of timestep and (possibly nulled) feature."""
        if uncond is not None:
            weight = uncond.to(feature.dtype)[:, None]
            # A blend, not an index: exports to ONNX as plain arithmetic.
            feature = feature * (1 - weight) + self.null_feature[None, :] * weight
        return self.time_mlp(timestep_embedding(t, self.config.embed_dim)) + self.feature_mlp(feature)

    def forward(self, x: torch.Tensor, t: torch.Tensor, feature: torch.Tensor,
                uncond: torch.Tensor | None = None) -> torch.Tensor:
        size, dim = self.config.sample_size, self.config.feature_dim
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, size, size):
            raise ValueError(f"x of shape {tuple(x.shape)}; expected N x 3 x {size} x {size}")
        if feature.ndim != 2 or feature.shape[1] != dim or feature.shape[0] != x.shape[0]:
            raise ValueError(f"feature of shape {tuple(feature.shape)}; expected {x.shape[0]} x {dim}")
        embedding = self.condition(t, feature, uncond)
        h = self.stem(x)
        skips = []
        for level, block in enumerate(self.down):
            h = block(h, embedding)
            skips.append(h)
            if level < len(self.downsample):
                h = self.downsample[level](h)
        h = self.middle(h, embedding)
        for index, block in enumerate(self.up):
            h = block(torch.cat([h, skips.pop()], dim=1), embedding)
            if index < len(self.upsample):
                h = self.upsample[index](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.head(h)
