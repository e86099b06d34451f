"""Export a trained UO-ISC codec to a model bundle: ``encoder.onnx``, ``decoder.onnx``, ``codec.json``.

Example::

    python -m uoisc_train.export --checkpoint runs/tiny/last.pt --out models/uoisc-tiny-uoisc
    python -m uoisc_train.export --config uoisc-vit-b16 --set pretrained=null --out /tmp/vitb16

The encoder graph takes ``image`` (float32 ``N x 3 x H x W`` in [0, 1]; the
backbone's mean/std are applied *inside* the graph) and ``token_ids`` (int64
``N x L_t``, open_clip tokenizer, kept outside ONNX) and returns ``indices``
(int64 ``N x |L| x T x S``). The decoder maps ``indices`` to ``image``. Without
text alignment the encoder has no ``token_ids`` input (codec.json lists the inputs).
A codec with the erasure token (``CodecConfig.erasure_token``) also decodes index
``K`` (erased); codec.json then has ``erasure_index`` = K.

A parity check torch vs onnxruntime on fixed inputs is part of every export;
its figures go into codec.json and a failed check removes nothing but raises.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from uoisc_runtime import sha256_file
from uoisc_train.runs import git_commit
from uoisc_train.codec import UOISC, CodecConfig, get_codec_config
from uoisc_train.onnx_graph import MethodGraph, finalize_graph, mha_fastpath_disabled
from uoisc_train.training.checkpoint import load_codec
from uoisc_train.training.config import apply_overrides

__all__ = ["BUNDLE_FORMAT_VERSION", "ENCODER_FILE", "DECODER_FILE", "SPEC_FILE", "OPSET",
           "ExportParityError", "require_parity", "write_spec", "export_bundle", "parity_check", "sha256_file", "main"]

_log = logging.getLogger("uoisc_train.export")

#: Version of the codec.json layout; ``uoisc_runtime.bundle`` refuses any other.
BUNDLE_FORMAT_VERSION = 1
ENCODER_FILE, DECODER_FILE, SPEC_FILE = "encoder.onnx", "decoder.onnx", "codec.json"
#: The legacy TorchScript exporter with opset 17 handles open_clip's attention
#: once the fused MHA fast path is off (see docs/codec.md).
OPSET = 17
#: Parity queries: fixed, so every export is checked on the same inputs.
PARITY_QUERIES = ("What colour is the circle?", "How many stars are there?",
                  "Is there a fish?", "Where is the square?")


class ExportParityError(RuntimeError):
    """onnxruntime disagrees with torch beyond the allowed tolerance."""


def require_parity(parity: dict[str, Any], limits: dict[str, float]) -> None:
    """Raise :class:`ExportParityError` unless ``parity[key] <= limit`` for every limit.

    Args:
        parity: a parity check's figures (torch vs onnxruntime).
        limits: the largest allowed value of each figure that is checked.
    """
    if any(parity[key] > limit for key, limit in limits.items()):
        allowed = ", ".join(f"{key} <= {limit}" for key, limit in limits.items())
        raise ExportParityError(f"export parity failed: {parity} (allowed: {allowed})")


def write_spec(out_dir: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Write ``spec`` as the bundle's codec.json (last, once its graphs passed) and return it."""
    (out_dir / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    return spec


def _encoder_input_names(config: CodecConfig) -> list[str]:
    return ["image", "token_ids"] if config.text_alignment else ["image"]


def _export_graphs(model: UOISC, out_dir: Path, context_length: int) -> None:
    config = model.config
    image = torch.rand(2, 3, config.image_size, config.image_size)
    token_ids = torch.zeros(2, context_length, dtype=torch.int64)
    encoder_inputs = _encoder_input_names(config)
    encoder_args = (image, token_ids) if config.text_alignment else (image,)
    dynamic = {name: {0: "batch"} for name in encoder_inputs + ["indices"]}
    with mha_fastpath_disabled(), torch.no_grad():
        torch.onnx.export(MethodGraph(model, "compress"), encoder_args, str(out_dir / ENCODER_FILE),
                          input_names=encoder_inputs, output_names=["indices"],
                          dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
        indices = model.compress(*encoder_args)
        torch.onnx.export(MethodGraph(model, "decompress"), (indices,), str(out_dir / DECODER_FILE),
                          input_names=["indices"], output_names=["image"],
                          dynamic_axes={"indices": {0: "batch"}, "image": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    image_shape = ["batch", 3, config.image_size, config.image_size]
    indices_shape = ["batch", *config.indices_shape]
    converted = (finalize_graph(out_dir / ENCODER_FILE, {"indices": indices_shape})
                 + finalize_graph(out_dir / DECODER_FILE, {"image": image_shape}))
    _log.info("stored %d fp16-exact weight tensors as fp16", converted)


def _parity_inputs(model: UOISC, n_images: int, seed: int) -> tuple[Tensor, Tensor]:
    """Fixed images (smooth random fields in [0, 1]) and tokenised parity queries."""
    config = model.config
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n_images, 3, 8, 8, generator=generator)
    images = nn.functional.interpolate(coarse, size=(config.image_size, config.image_size),
                                       mode="bilinear", align_corners=False).clamp(0, 1)
    queries = [PARITY_QUERIES[i % len(PARITY_QUERIES)] for i in range(n_images)]
    return images, model.backbone.tokenize(queries).to(torch.int64)


def parity_check(model: UOISC, out_dir: str | Path, n_images: int = 4, seed: int = 0,
                 intra_op_threads: int = 1) -> dict[str, Any]:
    """Compare torch and onnxruntime on fixed inputs.

    Returns:
        ``n_images``, ``index_mismatch_fraction`` (share of indices that differ;
        near-ties of eq. 7's argmin may flip by float rounding),
        ``image_max_abs_error`` (decoder on the torch indices) and
        ``image_mean_abs_error``.
    """
    import onnxruntime as ort

    out_dir = Path(out_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    encoder = ort.InferenceSession(str(out_dir / ENCODER_FILE), options, providers=["CPUExecutionProvider"])
    decoder = ort.InferenceSession(str(out_dir / DECODER_FILE), options, providers=["CPUExecutionProvider"])
    images, token_ids = _parity_inputs(model, n_images, seed)
    with torch.no_grad():
        torch_indices = model.compress(images, token_ids)
        decoder_indices = _with_erased_copies(torch_indices, model.config.erasure_index)
        torch_images = model.decompress(decoder_indices)
    feeds = {"image": images.numpy()}
    if model.config.text_alignment:
        feeds["token_ids"] = token_ids.numpy()
    (onnx_indices,) = encoder.run(["indices"], feeds)
    (onnx_images,) = decoder.run(["image"], {"indices": decoder_indices.numpy()})
    error = np.abs(onnx_images - torch_images.numpy())
    return {
        "n_images": n_images,
        "seed": seed,
        "index_mismatch_fraction": float(np.mean(onnx_indices != torch_indices.numpy())),
        "image_max_abs_error": float(error.max()),
        "image_mean_abs_error": float(error.mean()),
        **({"erased_images": n_images} if model.config.erasure_index is not None else {}),
    }


def _with_erased_copies(indices: Tensor, erasure_index: int | None) -> Tensor:
    """``indices``, followed (for an erasure-aware decoder) by copies whose first half in
    packed order is erased, so the parity check also covers the erasure rows."""
    if erasure_index is None:
        return indices
    erased = indices.clone().reshape(indices.shape[0], -1)
    erased[:, :erased.shape[1] // 2] = erasure_index
    return torch.cat([indices, erased.reshape(indices.shape)])


def _preprocessing(model: UOISC) -> dict[str, Any]:
    return {"input_range": [0.0, 1.0], "layout": "NCHW", "dtype": "float32",
            "normalization": "inside_graph",
            "mean": [float(v) for v in model.backbone.mean.flatten()],
            "std": [float(v) for v in model.backbone.std.flatten()]}


def build_spec(model: UOISC, model_id: str, files: dict[str, str], parity: dict[str, Any],
               provenance: dict[str, Any] | None = None) -> dict[str, Any]:
    """The codec.json dict of a bundle (see docs/training.md, *Bundle format*)."""
    config = model.config
    batch = "batch"
    return {
        "format_version": BUNDLE_FORMAT_VERSION,
        "model_id": model_id,
        "backbone": config.backbone,
        "image_size": config.image_size,
        "layers": list(config.layers),
        "segment_length": config.segment_length,
        "codebook_size": config.codebook_size,
        "bits_per_index": config.bits_per_index,
        "indices_shape": list(config.indices_shape),
        "bits_per_image": config.bits_per_image,
        "text_alignment": config.text_alignment,
        "preprocessing": _preprocessing(model),
        "tokenizer": {"name": config.backbone, "library": "open_clip",
                      "context_length": int(model.backbone.context_length)},
        "encoder": {"file": ENCODER_FILE, "sha256": files[ENCODER_FILE],
                    "inputs": {"image": {"dtype": "float32",
                                         "shape": [batch, 3, config.image_size, config.image_size]},
                               **({"token_ids": {"dtype": "int64",
                                                 "shape": [batch, int(model.backbone.context_length)]}}
                                  if config.text_alignment else {})},
                    "outputs": {"indices": {"dtype": "int64",
                                            "shape": [batch, *config.indices_shape]}}},
        "decoder": {"file": DECODER_FILE, "sha256": files[DECODER_FILE],
                    "inputs": {"indices": {"dtype": "int64", "shape": [batch, *config.indices_shape]}},
                    "outputs": {"image": {"dtype": "float32",
                                          "shape": [batch, 3, config.image_size, config.image_size]}}},
        "parity": parity,
        # Optional: only decoders with the learned "erased" rows have it (uoisc_runtime.codec).
        **({"erasure_index": config.erasure_index} if config.erasure_token else {}),
        "codec_config": config.to_dict(),
        "exported_by": {"git_commit": git_commit(), "torch": torch.__version__, "opset": OPSET,
                        **(provenance or {})},
    }


def export_bundle(model: UOISC, out_dir: str | Path, model_id: str,
                  provenance: dict[str, Any] | None = None, max_index_mismatch: float = 0.0,
                  max_image_error: float = 1e-4, parity_images: int = 4) -> dict[str, Any]:
    """Write the bundle folder and check parity; returns the codec.json dict.

    Args:
        model: the codec (put in eval mode here).
        out_dir: bundle folder, created if needed; existing bundle files are overwritten.
        model_id: name recorded in codec.json (e.g. ``"uoisc-tiny-uoisc"``).
        provenance: extra entries for ``exported_by`` (checkpoint, step, ...).
        max_index_mismatch: largest allowed share of indices that differ.
        max_image_error: largest allowed absolute pixel difference of the decoder.
        parity_images: images in the parity check.

    Raises:
        ExportParityError: parity worse than the tolerances (the files stay,
            codec.json is not written, so no loader accepts the folder).
    """
    if not model_id:
        raise ValueError(f"model_id={model_id!r} must be a non-empty string")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SPEC_FILE).unlink(missing_ok=True)
    model.eval()
    _export_graphs(model, out_dir, int(model.backbone.context_length))
    parity = parity_check(model, out_dir, n_images=parity_images)
    _log.info("parity torch vs onnxruntime: %s", parity)
    require_parity(parity, {"index_mismatch_fraction": max_index_mismatch,
                            "image_max_abs_error": max_image_error})
    files = {name: sha256_file(out_dir / name) for name in (ENCODER_FILE, DECODER_FILE)}
    return write_spec(out_dir, build_spec(model, model_id, files, parity, provenance))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.export",
                                     description="Export a UO-ISC codec to an ONNX model bundle.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-c", "--checkpoint", help="training checkpoint (last.pt of a run)")
    source.add_argument("--config", help="codec config name or JSON file: export an untrained "
                                         "(random-init) codec, e.g. to check that a geometry exports")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a codec config field (with --config), JSON value")
    parser.add_argument("-o", "--out", required=True, help="bundle folder to write")
    parser.add_argument("--model-id", default=None, help="name in codec.json (default: folder name)")
    parser.add_argument("--max-index-mismatch", type=float, default=0.0)
    parser.add_argument("--max-image-error", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0, help="init seed with --config")
    return parser


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (``uoisc-export``); returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.set and not args.config:
        parser.error("--set only applies with --config")
    provenance: dict[str, Any] = {}
    if args.checkpoint:
        model, info = load_codec(args.checkpoint)
        provenance = {"checkpoint": str(args.checkpoint), **info}
    else:
        torch.manual_seed(args.seed)
        config = CodecConfig.from_dict(apply_overrides(get_codec_config(args.config).to_dict(), args.set))
        model = UOISC(config)
        provenance = {"untrained": True, "init_seed": args.seed}
    spec = export_bundle(model, args.out, args.model_id or Path(args.out).name, provenance,
                         args.max_index_mismatch, args.max_image_error)
    print(json.dumps({"out": str(args.out), "parity": spec["parity"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
