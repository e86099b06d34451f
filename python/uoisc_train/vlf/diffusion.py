"""VLF-MSC image receiver: a feature-conditioned DDPM sampled with DDIM and classifier-free guidance.

The VLF-MSC receiver (``docs/vlf.md``) turns the one received vision-language feature ``f``
(the dequantised CLIP image embedding, ``N x E``) into a semantically aligned image.
:class:`FeatureToImageDiffusion` is a small denoising diffusion model (Ho et al. 2020)
trained with the epsilon-prediction loss ``|| eps - eps_theta(x_t, t, f) ||^2``, where with
probability ``p_uncond`` the feature is replaced by a learned null vector, and sampled with
DDIM (Song et al. 2021) in a configurable number of steps with classifier-free guidance
(Ho & Salimans 2022)::

    eps = eps_theta(x_t, t, null) + w * (eps_theta(x_t, t, f) - eps_theta(x_t, t, null))

``w = 1`` is the plain conditional model (one network call per step, no null branch).
Sampling is deterministic given a seed (a ``torch.Generator`` draws the initial noise).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from uoisc_train.vlf.diffusion_config import DiffusionConfig
from uoisc_train.vlf.diffusion_schedule import NoiseSchedule
from uoisc_train.vlf.diffusion_unet import ConditionalUNet

__all__ = ["FeatureToImageDiffusion", "as_generator"]


def as_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A CPU ``torch.Generator``: the one given, or a new one seeded with ``seed`` (0 if None)."""
    if isinstance(seed, torch.Generator):
        return seed
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ValueError(f"seed={seed!r} must be a non-negative integer, a torch.Generator or None")
    return torch.Generator().manual_seed(seed or 0)


class FeatureToImageDiffusion(nn.Module):
    """Conditional DDPM from a VLF feature ``N x E`` to ``N x 3 x H x W`` images in [0, 1].

    Args:
        config: architecture, schedule and guidance dropout (:class:`DiffusionConfig`).
    """

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        self.config = config
        self.unet = ConditionalUNet(config)
        self.schedule = NoiseSchedule(config)

    # ---- data space ---------------------------------------------------------
    def to_model_space(self, images: torch.Tensor) -> torch.Tensor:
        """``N x 3 x H x W`` images in [0, 1] -> ``N x 3 x S x S`` in [-1, 1] (area-resized)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images of shape {tuple(images.shape)}; expected N x 3 x H x W in [0, 1]")
        size = self.config.sample_size
        if tuple(images.shape[-2:]) != (size, size):
            images = F.interpolate(images, size=(size, size), mode="area")
        return images * 2 - 1

    def to_image(self, samples: torch.Tensor) -> torch.Tensor:
        """``N x 3 x S x S`` samples in [-1, 1] -> images in [0, 1] at ``image_size`` (bilinear)."""
        images = ((samples + 1) / 2).clamp(0, 1)
        size = self.config.image_size
        if samples.shape[-1] != size:
            images = F.interpolate(images, size=(size, size), mode="bilinear",
                                   align_corners=False).clamp(0, 1)
        return images

    # ---- training -----------------------------------------------------------
    def forward(self, images: torch.Tensor, features: torch.Tensor,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Epsilon-prediction loss on a batch, with guidance dropout in training mode.

        Args:
            images: ``N x 3 x H x W`` target images in [0, 1].
            features: ``N x E`` conditioning features.
            generator: source of timesteps, noise and dropout (None: torch's global one).

        Returns:
            ``{"loss", "eps", "eps_hat", "t", "uncond"}``.
        """
        x0 = self.to_model_space(images)
        batch, device = x0.shape[0], x0.device
        t = torch.randint(0, self.config.timesteps, (batch,), generator=generator).to(device)
        noise = torch.randn(x0.shape, generator=generator).to(device)
        p_uncond = self.config.p_uncond if self.training else 0.0
        uncond = (torch.rand(batch, generator=generator) < p_uncond).float().to(device)
        eps_hat = self.unet(self.schedule.add_noise(x0, noise, t), t, features, uncond)
        return {"loss": F.mse_loss(eps_hat, noise), "eps": noise, "eps_hat": eps_hat,
                "t": t, "uncond": uncond}

    # ---- sampling -----------------------------------------------------------
    def guided_eps(self, x_t: torch.Tensor, t: torch.Tensor, features: torch.Tensor,
                   guidance: float) -> torch.Tensor:
        """Classifier-free guided noise prediction (module docstring); ``guidance = 1`` is conditional."""
        if guidance == 1.0:
            return self.unet(x_t, t, features)
        both = self.unet(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([features, features]),
                         torch.cat([torch.zeros_like(t, dtype=features.dtype),
                                    torch.ones_like(t, dtype=features.dtype)]))
        conditional, unconditional = both.chunk(2)
        return unconditional + guidance * (conditional - unconditional)

    def initial_noise(self, n: int, seed: int | torch.Generator | None = 0) -> torch.Tensor:
        """``x_T``: ``n x 3 x S x S`` standard normal noise drawn from ``seed`` (what :meth:`sample` starts from)."""
        size = self.config.sample_size
        return torch.randn((n, 3, size, size), generator=as_generator(seed))

    @torch.no_grad()
    def sample(self, features: torch.Tensor, steps: int = 10, guidance: float = 3.0,
               seed: int | torch.Generator | None = 0, eta: float = 0.0) -> torch.Tensor:
        """Generate one image per feature with DDIM.

        Args:
            features: ``N x E`` received features (any float values; need not be unit norm).
            steps: DDIM steps (network evaluations per image, doubled when ``guidance != 1``).
            guidance: classifier-free guidance scale ``w`` (>= 0; 1 = conditional only).
            seed: integer seed or ``torch.Generator`` of the initial noise (and of the
                ancestral noise when ``eta > 0``): same seed, same images.
            eta: 0 = deterministic DDIM; 1 = DDPM-like.

        Returns:
            ``N x 3 x image_size x image_size`` images in [0, 1].
        """
        if features.ndim != 2 or features.shape[1] != self.config.feature_dim:
            raise ValueError(f"features of shape {tuple(features.shape)}; "
                             f"expected N x {self.config.feature_dim}")
        if not guidance >= 0:
            raise ValueError(f"guidance={guidance!r} must be >= 0")
        generator = as_generator(seed)
        device = features.device
        features = features.float()
        x = self.initial_noise(features.shape[0], generator).to(device)
        timesteps = self.schedule.ddim_timesteps(steps)
        for t, t_prev in zip(timesteps, timesteps[1:] + [-1]):
            t_batch = torch.full((features.shape[0],), t, device=device)
            eps = self.guided_eps(x, t_batch, features, guidance)
            x = self.schedule.ddim_step(x, eps, t, t_prev, eta, generator)
        return self.to_image(x)
