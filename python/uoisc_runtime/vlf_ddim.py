"""DDIM with classifier-free guidance in numpy, around any one-step denoiser (e.g. onnxruntime).

The image receiver of VLF-MSC (``docs/vlf.md``, "Sampler equations"). numpy only, so the
GNU Radio block and a small receiver need no torch; ``uoisc_train.vlf.diffusion_onnx_sampler``
re-exports it. It reproduces ``FeatureToImageDiffusion.sample`` (eta = 0) given the same
initial noise. Equations (``a`` = ``alpha_bar``, ``a_{-1}`` = 1, ``w`` = guidance)::

    eps    = eps(x, t, f)                                   if w == 1
           = eps_null + w (eps_f - eps_null)                otherwise (one batched call, 2N rows)
    x0_hat = clip((x - sqrt(1 - a_t) eps) / sqrt(a_t), -1, 1)
    eps    = (x - sqrt(a_t) x0_hat) / sqrt(1 - a_t)
    x      = sqrt(a_prev) x0_hat + sqrt(1 - a_prev) eps
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["Denoiser", "ddim_timesteps", "ddim_sample", "initial_noise", "resize_bilinear",
           "onnx_denoiser", "session_denoiser"]

#: ``eps = denoiser(x, t, feature, uncond)``, all float32 arrays, batch-first.
Denoiser = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def ddim_timesteps(n_timesteps: int, steps: int) -> list[int]:
    """``steps`` timesteps evenly spaced from ``T - 1`` down to 0 (as the torch schedule).

    Raises:
        ValueError: ``steps`` outside ``[1, n_timesteps]``.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) \
            or not 1 <= steps <= n_timesteps:
        raise ValueError(f"steps={steps!r} must be an integer in [1, {n_timesteps}]")
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

    Raises:
        ValueError: negative or non-finite guidance, bad ``steps``, mismatched shapes.
    """
    if not np.isfinite(guidance) or guidance < 0:
        raise ValueError(f"guidance={guidance!r} must be a finite number >= 0")
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


def initial_noise(seeds: Sequence[int], sample_size: int) -> np.ndarray:
    """``x_T`` of each image: ``3 x S x S`` standard normal float64 draws of
    ``np.random.default_rng(seed)``, cast to float32, so one seed always gives one image
    whatever the batch (numpy's and torch's generators differ: this is not torch's noise).

    Raises:
        ValueError: a seed that is not a non-negative integer.
    """
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed={seed!r} must be a non-negative integer")
    shape = (3, sample_size, sample_size)
    noise = [np.random.default_rng(int(seed)).standard_normal(shape) for seed in seeds]
    return np.stack(noise).astype(np.float32) if noise else np.zeros((0, *shape), np.float32)


def _bilinear_matrix(out_size: int, in_size: int) -> np.ndarray:
    """``out x in`` weights of 1-D linear interpolation with half-pixel centres
    (``align_corners=False``; source positions below 0 clamp to 0, as torch does)."""
    source = np.maximum((np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5, 0.0)
    lower = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    upper = np.minimum(lower + 1, in_size - 1)
    frac = source - lower
    weights = np.zeros((out_size, in_size))
    np.add.at(weights, (np.arange(out_size), lower), 1 - frac)
    np.add.at(weights, (np.arange(out_size), upper), frac)
    return weights.astype(np.float32)


def resize_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """``N x C x H x W`` -> ``N x C x size x size`` like ``torch.nn.functional.interpolate(...,
    mode="bilinear", align_corners=False)`` (separable: rows, then columns)."""
    if images.shape[-2:] == (size, size):
        return images
    rows = _bilinear_matrix(size, images.shape[-2])
    cols = _bilinear_matrix(size, images.shape[-1])
    return np.einsum("oh,nchw,pw->ncop", rows, images.astype(np.float32), cols)


def session_denoiser(session) -> Denoiser:
    """A :data:`Denoiser` over an open onnxruntime session of ``denoiser.onnx``."""
    def denoise(x, t, feature, uncond):
        return session.run(["eps"], {"x": x, "t": t, "feature": feature, "uncond": uncond})[0]
    return denoise


def onnx_denoiser(onnx_path: str) -> Denoiser:
    """A :data:`Denoiser` running an exported ``denoiser.onnx`` (one CPU session, opened here)."""
    import onnxruntime as ort
    return session_denoiser(ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]))
