"""ONNX export of one denoiser step, for a sampling loop in numpy + onnxruntime (GNU Radio block).

The exported graph is ``eps = eps_theta(x, t, feature, uncond)`` with a dynamic batch:

====================  ======================  ==========================================
name                  shape, dtype            meaning
====================  ======================  ==========================================
``x`` (in)            N x 3 x S x S, float32  noisy sample ``x_t`` in model space
``t`` (in)            N, float32              timestep in ``[0, T)``
``feature`` (in)      N x E, float32          received VLF feature
``uncond`` (in)       N, float32              1: use the learned null vector (CFG), 0: the feature
``eps`` (out)         N x 3 x S x S, float32  predicted noise
====================  ======================  ==========================================

Next to ``denoiser.onnx``, ``denoiser.json`` carries the diffusion config, the
``alpha_bar`` table the DDIM update needs (so the sampler never recomputes the schedule and
cannot disagree with training) and the graph's sha256. The sampler equations are in
``uoisc_runtime.vlf_ddim`` and ``docs/vlf.md``. Weights that are exact in
fp16 (a model folder's always are) are stored as fp16 + Cast (``onnx_graph``), halving the file.

Command line (from a trained model folder)::

    python -m uoisc_train.vlf.diffusion_export models/uoisc-tiny-vlf-generator runs/vlf-denoiser
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from uoisc_runtime import sha256_file
from uoisc_train.onnx_graph import finalize_graph
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion

__all__ = ["DENOISER_FILE", "DENOISER_META_FILE", "DENOISER_FORMAT_VERSION", "OPSET",
           "export_denoiser", "check_denoiser_parity", "main"]

_log = logging.getLogger(__name__)

DENOISER_FILE = "denoiser.onnx"
DENOISER_META_FILE = "denoiser.json"
DENOISER_FORMAT_VERSION = 1
OPSET = 17
INPUT_NAMES = ("x", "t", "feature", "uncond")


def _example_inputs(model: FeatureToImageDiffusion, batch: int, seed: int) -> tuple[torch.Tensor, ...]:
    config = model.config
    generator = torch.Generator().manual_seed(seed)
    size = config.sample_size
    return (torch.randn(batch, 3, size, size, generator=generator),
            torch.randint(0, config.timesteps, (batch,), generator=generator).float(),
            torch.randn(batch, config.feature_dim, generator=generator),
            (torch.arange(batch) % 2).float())


def check_denoiser_parity(model: FeatureToImageDiffusion, onnx_path: str | Path, batch: int = 4,
                          seed: int = 0) -> float:
    """Largest absolute difference between torch and onnxruntime on random inputs."""
    import onnxruntime as ort
    inputs = _example_inputs(model, batch, seed)
    with torch.no_grad():
        expected = model.unet(*inputs).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (actual,) = session.run(None, {name: tensor.numpy() for name, tensor in zip(INPUT_NAMES, inputs)})
    return float(np.abs(actual - expected).max())


def export_denoiser(model: FeatureToImageDiffusion, out_dir: str | Path, tolerance: float = 1e-4) -> dict:
    """Write ``denoiser.onnx`` and ``denoiser.json`` and check parity with torch.

    Args:
        model: the trained generator (its weights are exported as they are).
        out_dir: target folder (created if needed).
        tolerance: largest accepted |onnxruntime - torch| on random inputs.

    Returns:
        The metadata written to ``denoiser.json``.

    Raises:
        RuntimeError: the exported graph disagrees with torch by more than ``tolerance``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / DENOISER_FILE
    model = model.eval()
    batch_axis = {name: {0: "batch"} for name in (*INPUT_NAMES, "eps")}
    with warnings.catch_warnings():
        # The U-Net's argument checks compare shapes in Python; for the traced graph they are
        # constants by design (the channel and feature sizes are fixed, the batch stays dynamic).
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(model.unet, _example_inputs(model, 2, 0), str(onnx_path),
                          input_names=list(INPUT_NAMES), output_names=["eps"], dynamic_axes=batch_axis,
                          opset_version=OPSET, dynamo=False)
    size = model.config.sample_size
    finalize_graph(onnx_path, {"eps": ["batch", 3, size, size]})
    error = check_denoiser_parity(model, onnx_path)
    if error > tolerance:
        raise RuntimeError(f"exported denoiser differs from torch by {error:.3g} > {tolerance:g}")
    meta = {"format_version": DENOISER_FORMAT_VERSION, "mode": "vlf", "graph": DENOISER_FILE,
            "sha256": sha256_file(onnx_path), "inputs": list(INPUT_NAMES), "outputs": ["eps"],
            "diffusion_config": model.config.to_dict(),
            "alpha_bar": model.schedule.alpha_bar.tolist(), "parity_max_abs_error": error}
    (out_dir / DENOISER_META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    _log.info("exported denoiser to %s (parity error %.2g)", onnx_path, error)
    return meta


def main(argv: list[str] | None = None) -> dict:
    """Export the denoiser of a generator model folder; returns the written metadata."""
    from uoisc_train.vlf.diffusion_artefact import load_generator
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.vlf.diffusion_export",
                                     description="Export one step of a VLF generator's denoiser to ONNX.")
    parser.add_argument("model_dir", help="generator model folder (save_generator_artefact)")
    parser.add_argument("out_dir", help="folder for denoiser.onnx and denoiser.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    return export_denoiser(load_generator(args.model_dir), args.out_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
