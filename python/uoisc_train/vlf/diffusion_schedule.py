"""Noise schedule, forward noising and the DDIM update of the VLF-MSC image receiver.

Notation (Ho et al. 2020; Song et al. 2021, "DDIM"): ``alpha_bar_t = prod_{s<=t} (1 - beta_s)``;
forward process ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps``. The DDIM update
from ``t`` to ``t_prev`` (``alpha_bar`` of -1 is 1) with ``eta`` = 0 is deterministic::

    x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t), clipped to [-1, 1]
    eps'   = (x_t - sqrt(a_t) x0_hat) / sqrt(1 - a_t)        # consistent with the clipped x0
    sigma  = eta * sqrt((1 - a_prev) / (1 - a_t)) * sqrt(1 - a_t / a_prev)
    x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev - sigma^2) eps' + sigma z

``docs/vlf.md`` (Image receiver) repeats these for the numpy sampler of the GNU Radio block.
"""

from __future__ import annotations

import math

import torch

from uoisc_train.vlf.diffusion_config import DiffusionConfig

__all__ = ["make_betas", "NoiseSchedule"]


def make_betas(config: DiffusionConfig) -> torch.Tensor:
    """``T`` betas (float64) of the configured schedule.

    Cosine: ``alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) pi/2)`` with ``s = 0.008``, betas
    clipped to 0.999 (Nichol & Dhariwal 2021, eq. 17); linear: evenly spaced from
    ``beta_start`` to ``beta_end``.
    """
    steps = config.timesteps
    if config.beta_schedule == "linear":
        return torch.linspace(config.beta_start, config.beta_end, steps, dtype=torch.float64)
    offset = 0.008
    grid = torch.arange(steps + 1, dtype=torch.float64) / steps
    alpha_bar = torch.cos((grid + offset) / (1 + offset) * math.pi / 2) ** 2
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)


class NoiseSchedule:
    """``alpha_bar`` table, forward noising and DDIM steps for one :class:`DiffusionConfig`."""

    def __init__(self, config: DiffusionConfig):
        self.timesteps = config.timesteps
        self.alpha_bar = torch.cumprod(1 - make_betas(config), dim=0)  # float64, T

    def _alpha_bar_at(self, t: torch.Tensor) -> torch.Tensor:
        """``alpha_bar_t`` as float32 ``N x 1 x 1 x 1``, with ``alpha_bar_{-1} = 1``."""
        padded = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar])
        return padded[t.long().cpu() + 1].float().view(-1, 1, 1, 1).to(t.device)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise`` for per-sample ``t``."""
        if t.min() < 0 or t.max() >= self.timesteps:
            raise ValueError(f"timesteps {t.tolist()} outside [0, {self.timesteps})")
        a = self._alpha_bar_at(t)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def ddim_timesteps(self, steps: int) -> list[int]:
        """``steps`` decreasing timesteps, evenly spaced from ``T - 1`` down to 0."""
        if not isinstance(steps, int) or not 1 <= steps <= self.timesteps:
            raise ValueError(f"steps={steps!r} must be an integer in [1, {self.timesteps}]")
        # Integer arithmetic, so the numpy sampler (diffusion_onnx_sampler) gets the same steps.
        if steps == 1:
            return [self.timesteps - 1]
        return [(self.timesteps - 1) * (steps - 1 - i) // (steps - 1) for i in range(steps)]

    def ddim_step(self, x_t: torch.Tensor, eps: torch.Tensor, t: int, t_prev: int,
                  eta: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """One DDIM update ``x_t -> x_{t_prev}`` (module docstring); ``t_prev = -1`` ends at x_0.

        Args:
            x_t: ``N x C x H x W`` current samples.
            eps: predicted noise of the same shape.
            t, t_prev: current and next timestep, ``t_prev < t``.
            eta: 0 for deterministic DDIM, 1 for DDPM-like ancestral noise.
            generator: source of the ancestral noise when ``eta > 0``.
        """
        if not -1 <= t_prev < t < self.timesteps:
            raise ValueError(f"need -1 <= t_prev < t < {self.timesteps}, got t={t}, t_prev={t_prev}")
        if eta < 0:
            raise ValueError(f"eta={eta} must be >= 0")
        batch = x_t.shape[0]
        a_t = self._alpha_bar_at(torch.full((batch,), t))
        a_prev = self._alpha_bar_at(torch.full((batch,), t_prev))
        x0 = ((x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
        eps = (x_t - a_t.sqrt() * x0) / (1 - a_t).sqrt()
        sigma = eta * ((1 - a_prev) / (1 - a_t)).sqrt() * (1 - a_t / a_prev).sqrt()
        x_prev = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).clamp(min=0).sqrt() * eps
        if eta > 0 and t_prev >= 0:
            x_prev = x_prev + sigma * torch.randn(x_t.shape, generator=generator, device=x_t.device)
        return x_prev
