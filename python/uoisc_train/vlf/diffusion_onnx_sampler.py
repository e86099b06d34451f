"""DDIM with classifier-free guidance in numpy, around any one-step denoiser (e.g. onnxruntime).

The reference for the GNU Radio ``vlf_decoder`` block: numpy only (no torch), so it can move
to ``uoisc_runtime`` unchanged. It reproduces ``FeatureToImageDiffusion.sample`` (eta = 0)
given the same initial noise; ``tests/test_vlf_diffusion_export.py`` checks that through the
exported ONNX graph. Equations (``a`` = ``alpha_bar``, ``a_{-1}`` = 1, ``w`` = guidance)::

    eps    = eps(x, t, f)                                   if w == 1
           = eps_null + w (eps_f - eps_null)                otherwise (one batched call, 2N rows)
    x0_hat = clip((x - sqrt(1 - a_t) eps) / sqrt(a_t), -1, 1)
    eps    = (x - sqrt(a_t) x0_hat) / sqrt(1 - a_t)
    x      = sqrt(a_prev) x0_hat + sqrt(1 - a_prev) eps
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["Denoiser", "ddim_timesteps", "ddim_sample", "onnx_denoiser"]

#: ``eps = denoiser(x, t, feature, uncond)``, all float32 arrays, batch-first.
Denoiser = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def ddim_timesteps(n_timesteps: int, steps: int) -> list[int]:
    """``steps`` timesteps evenly spaced from ``T - 1`` down to 0 (as the torch schedule)."""
    if not 1 <= steps <= n_timesteps:
        raise ValueError(f"steps={steps} must be in [1, {n_timesteps}]")
    if steps == 1:
        return [n_timesteps - 1]
    return [(n_timesteps - 1) * (steps - 1 - i) // (steps - 1) for i in range(steps)]


def ddim_sample(denoiser: Denoiser, alpha_bar: np.ndarray, features: np.ndarray, x_T: np.ndarray,
                steps: int, guidance: float) -> np.ndarray:
    """Deterministic DDIM from ``x_T``; returns ``N x 3 x S x S`` images in [0, 1] (sample size).

    Args:
        denoiser: one-step noise predictor (:data:`Denoiser`).
        alpha_bar: ``T`` cumulative alphas (``denoiser.json``).
        features: ``N x E`` received features.
        x_T: ``N x 3 x S x S`` initial standard normal noise.
        steps: DDIM steps.
        guidance: classifier-free guidance scale ``w >= 0``.
    """
    if guidance < 0:
        raise ValueError(f"guidance={guidance} must be >= 0")
    if features.ndim != 2 or x_T.ndim != 4 or len(features) != len(x_T):
        raise ValueError(f"features {features.shape} and x_T {x_T.shape} must be N x E and N x 3 x S x S")
    alpha_bar = np.asarray(alpha_bar, dtype=np.float64)
    n = len(features)
    features = features.astype(np.float32)
    x = x_T.astype(np.float32)
    timesteps = ddim_timesteps(len(alpha_bar), steps)
    for t, t_prev in zip(timesteps, timesteps[1:] + [-1]):
        t_batch = np.full(n, t, np.float32)
        if guidance == 1.0:
            eps = denoiser(x, t_batch, features, np.zeros(n, np.float32))
        else:
            both = denoiser(np.concatenate([x, x]), np.concatenate([t_batch, t_batch]),
                            np.concatenate([features, features]),
                            np.concatenate([np.zeros(n, np.float32), np.ones(n, np.float32)]))
            eps = both[n:] + guidance * (both[:n] - both[n:])
        a_t = np.float32(alpha_bar[t])
        a_prev = np.float32(alpha_bar[t_prev] if t_prev >= 0 else 1.0)
        x0 = np.clip((x - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t), -1, 1)
        eps = (x - np.sqrt(a_t) * x0) / np.sqrt(1 - a_t)
        x = (np.sqrt(a_prev) * x0 + np.sqrt(max(1 - a_prev, 0)) * eps).astype(np.float32)
    return np.clip((x + 1) / 2, 0, 1)


def onnx_denoiser(onnx_path: str) -> Denoiser:
    """A :data:`Denoiser` running an exported ``denoiser.onnx`` with onnxruntime (one session)."""
    import onnxruntime as ort
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])

    def denoise(x, t, feature, uncond):
        return session.run(None, {"x": x, "t": t, "feature": feature, "uncond": uncond})[0]
    return denoise
