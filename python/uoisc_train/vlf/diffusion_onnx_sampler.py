"""DDIM with classifier-free guidance in numpy around a one-step denoiser: re-exported from
``uoisc_runtime.vlf_ddim`` (one copy, torch-free, used by the GNU Radio ``vlf_decoder``)."""

from uoisc_runtime.vlf_ddim import (Denoiser, ddim_sample, ddim_timesteps, initial_noise, onnx_denoiser,
                                    resize_bilinear)

__all__ = ["Denoiser", "ddim_timesteps", "ddim_sample", "initial_noise", "resize_bilinear", "onnx_denoiser"]
