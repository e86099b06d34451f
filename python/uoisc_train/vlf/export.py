"""Export a VLF-MSC transmitter to a model bundle: ``vlf_encoder.onnx``, ``vlf_dequantizer.onnx``, ``codec.json``.

Example::

    python -m uoisc_train.vlf.export --fit-scenes 2000 --out /tmp/uoisc-tiny-vlf

The encoder graph takes ``image`` (float32 ``N x 3 x H x W`` in [0, 1], the
backbone's mean/std applied inside the graph) and, with query modulation,
``token_ids`` (int64 ``N x L_t``, open_clip tokenizer), and returns ``indices``
(int64 ``N x G``: ``G = E / l_s`` VQ indices or ``E`` scalar levels). The
dequantizer graph maps ``indices`` to ``feature`` (float32 ``N x E``), the input of
the caption and image receivers. codec.json has the UO-ISC bundle's layout where
the fields mean the same (format version, preprocessing, tokenizer, sha256 per
graph, parity) plus ``mode: "vlf"`` and the VLF geometry; ``docs/vlf.md`` lists
every field. A parity check torch vs onnxruntime is part of every export.
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
from uoisc_train.export import (BUNDLE_FORMAT_VERSION, OPSET, PARITY_QUERIES, SPEC_FILE, require_parity,
                                write_spec)
from uoisc_train.onnx_graph import MethodGraph, finalize_graph, mha_fastpath_disabled
from uoisc_train.runs import git_commit
from uoisc_train.vlf.config import VlfConfig
from uoisc_train.vlf.transmitter import VlfTransmitter

__all__ = ["VLF_MODE", "VLF_ENCODER_FILE", "VLF_DEQUANTIZER_FILE", "export_vlf_bundle",
           "vlf_parity_check", "build_vlf_spec", "build_parser", "fit_tiny_transmitter", "main"]

_log = logging.getLogger("uoisc_train.vlf.export")

VLF_MODE = "vlf"
VLF_ENCODER_FILE, VLF_DEQUANTIZER_FILE = "vlf_encoder.onnx", "vlf_dequantizer.onnx"


def _context_length(transmitter: VlfTransmitter) -> int | None:
    return int(transmitter.backbone.context_length) if transmitter.config.query_modulation else None


def _encoder_inputs(transmitter: VlfTransmitter, n_images: int) -> dict[str, Tensor]:
    size = transmitter.config.image_size
    inputs = {"image": torch.rand(n_images, 3, size, size)}
    if transmitter.config.query_modulation:
        inputs["token_ids"] = torch.zeros(n_images, _context_length(transmitter), dtype=torch.int64)
    return inputs


def _export_graphs(transmitter: VlfTransmitter, out_dir: Path) -> None:
    config = transmitter.config
    inputs = _encoder_inputs(transmitter, 2)
    with mha_fastpath_disabled(), torch.no_grad():
        torch.onnx.export(MethodGraph(transmitter, "compress"), tuple(inputs.values()),
                          str(out_dir / VLF_ENCODER_FILE), input_names=list(inputs),
                          output_names=["indices"],
                          dynamic_axes={name: {0: "batch"} for name in [*inputs, "indices"]},
                          opset_version=OPSET, dynamo=False)
        indices = transmitter.compress(*inputs.values())
        torch.onnx.export(MethodGraph(transmitter, "dequantize"), (indices,),
                          str(out_dir / VLF_DEQUANTIZER_FILE), input_names=["indices"],
                          output_names=["feature"],
                          dynamic_axes={"indices": {0: "batch"}, "feature": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    finalize_graph(out_dir / VLF_ENCODER_FILE, {"indices": ["batch", config.n_codes]})
    finalize_graph(out_dir / VLF_DEQUANTIZER_FILE, {"feature": ["batch", config.embed_dim]})


def _parity_inputs(transmitter: VlfTransmitter, n_images: int, seed: int) -> dict[str, Tensor]:
    """Fixed smooth random images in [0, 1] and, with query modulation, tokenised queries."""
    size = transmitter.config.image_size
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n_images, 3, 8, 8, generator=generator)
    inputs = {"image": nn.functional.interpolate(coarse, size=(size, size), mode="bilinear",
                                                 align_corners=False).clamp(0, 1)}
    if transmitter.config.query_modulation:
        queries = [PARITY_QUERIES[i % len(PARITY_QUERIES)] for i in range(n_images)]
        inputs["token_ids"] = transmitter.backbone.tokenize(queries).to(torch.int64)
    return inputs


def vlf_parity_check(transmitter: VlfTransmitter, out_dir: str | Path, n_images: int = 4,
                     seed: int = 0) -> dict[str, Any]:
    """Compare torch and onnxruntime on fixed inputs.

    Returns:
        ``n_images``, ``seed``, ``index_mismatch_fraction`` (share of sent integers
        that differ; near-ties may flip by float rounding) and
        ``feature_max_abs_error`` (dequantizer on the torch indices).
    """
    import onnxruntime as ort

    out_dir = Path(out_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    encoder = ort.InferenceSession(str(out_dir / VLF_ENCODER_FILE), options,
                                   providers=["CPUExecutionProvider"])
    dequantizer = ort.InferenceSession(str(out_dir / VLF_DEQUANTIZER_FILE), options,
                                       providers=["CPUExecutionProvider"])
    inputs = _parity_inputs(transmitter, n_images, seed)
    with torch.no_grad():
        torch_indices = transmitter.compress(*inputs.values())
        torch_feature = transmitter.dequantize(torch_indices)
    (onnx_indices,) = encoder.run(["indices"], {k: v.numpy() for k, v in inputs.items()})
    (onnx_feature,) = dequantizer.run(["feature"], {"indices": torch_indices.numpy()})
    return {"n_images": n_images, "seed": seed,
            "index_mismatch_fraction": float(np.mean(onnx_indices != torch_indices.numpy())),
            "feature_max_abs_error": float(np.abs(onnx_feature - torch_feature.numpy()).max())}


def build_vlf_spec(transmitter: VlfTransmitter, model_id: str, files: dict[str, str],
                   parity: dict[str, Any], provenance: dict[str, Any] | None = None,
                   receivers: dict[str, Any] | None = None) -> dict[str, Any]:
    """The codec.json dict of a VLF bundle (field by field in ``docs/vlf.md``); ``receivers``
    (``caption_decoder`` and ``generator`` fields, see ``bundle_cli``) are added as they are."""
    config, backbone = transmitter.config, transmitter.backbone
    size, batch = config.image_size, "batch"
    indices = {"dtype": "int64", "shape": [batch, config.n_codes]}
    encoder_inputs = {"image": {"dtype": "float32", "shape": [batch, 3, size, size]}}
    if config.query_modulation:
        encoder_inputs["token_ids"] = {"dtype": "int64", "shape": [batch, _context_length(transmitter)]}
    return {
        "format_version": BUNDLE_FORMAT_VERSION,
        "mode": VLF_MODE,
        "model_id": model_id,
        "backbone": config.backbone,
        "image_size": size,
        "embed_dim": config.embed_dim,
        "quantizer": config.quantizer,
        "segment_length": config.segment_length if config.quantizer == "vq" else None,
        "codebook_size": config.codebook_size if config.quantizer == "vq" else None,
        "scalar_bits": config.scalar_bits if config.quantizer == "scalar" else None,
        "n_levels": config.n_levels,
        "bits_per_index": config.bits_per_index,
        "indices_shape": [config.n_codes],
        "bits_per_image": config.bits_per_feature,
        "text_alignment": config.query_modulation,
        "preprocessing": {"input_range": [0.0, 1.0], "layout": "NCHW", "dtype": "float32",
                          "normalization": "inside_graph",
                          "mean": [float(v) for v in backbone.mean.flatten()],
                          "std": [float(v) for v in backbone.std.flatten()]},
        # Always a dict, as in UO-ISC bundles; text_alignment says whether the encoder reads it.
        "tokenizer": {"name": config.backbone, "library": "open_clip",
                      "context_length": int(backbone.context_length)},
        "encoder": {"file": VLF_ENCODER_FILE, "sha256": files[VLF_ENCODER_FILE],
                    "inputs": encoder_inputs, "outputs": {"indices": indices}},
        "dequantizer": {"file": VLF_DEQUANTIZER_FILE, "sha256": files[VLF_DEQUANTIZER_FILE],
                        "inputs": {"indices": indices},
                        "outputs": {"feature": {"dtype": "float32", "shape": [batch, config.embed_dim]}}},
        "parity": parity,
        "vlf_config": config.to_dict(),
        **(receivers or {}),
        "exported_by": {"git_commit": git_commit(), "torch": torch.__version__, "opset": OPSET,
                        **(provenance or {})},
    }


def export_vlf_bundle(transmitter: VlfTransmitter, out_dir: str | Path, model_id: str,
                      provenance: dict[str, Any] | None = None, max_index_mismatch: float = 0.0,
                      max_feature_error: float = 1e-5, parity_images: int = 4,
                      receivers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the bundle folder and check parity; returns the codec.json dict.

    Without ``receivers`` the folder holds the transmitter only (the runtime's
    ``load_vlf_bundle`` needs both receivers: ``bundle_cli`` writes the complete bundle).

    Raises:
        ExportParityError: parity worse than the tolerances (codec.json is then
            not written, so no loader accepts the folder).
    """
    if not model_id:
        raise ValueError(f"model_id={model_id!r} must be a non-empty string")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SPEC_FILE).unlink(missing_ok=True)
    transmitter.eval()
    _export_graphs(transmitter, out_dir)
    parity = vlf_parity_check(transmitter, out_dir, n_images=parity_images)
    _log.info("parity torch vs onnxruntime: %s", parity)
    require_parity(parity, {"index_mismatch_fraction": max_index_mismatch,
                            "feature_max_abs_error": max_feature_error})
    files = {name: sha256_file(out_dir / name) for name in (VLF_ENCODER_FILE, VLF_DEQUANTIZER_FILE)}
    return write_spec(out_dir, build_vlf_spec(transmitter, model_id, files, parity, provenance, receivers))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.vlf.export",
                                     description="Export a VLF-MSC transmitter (tiny CLIP + fitted "
                                                 "quantiser) to an ONNX model bundle.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-o", "--out", required=True, help="bundle folder to write")
    parser.add_argument("--model-id", default=None, help="name in codec.json (default: folder name)")
    parser.add_argument("--quantizer", choices=("vq", "scalar"), default="vq")
    parser.add_argument("--segment-length", type=int, default=4)
    parser.add_argument("--codebook-size", type=int, default=256)
    parser.add_argument("--scalar-bits", type=int, default=2)
    parser.add_argument("--fit-scenes", type=int, default=2000,
                        help="train-split scenes whose features fit the quantiser")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed and k-means seed")
    return parser


def fit_tiny_transmitter(args: argparse.Namespace, parser: argparse.ArgumentParser
                         ) -> tuple[VlfTransmitter, dict[str, Any]]:
    """The shipped tiny CLIP with a quantiser fitted as :func:`build_parser`'s arguments say,
    and the provenance to record in codec.json."""
    from uoisc_train.clip import load_tiny_clip
    from uoisc_train.clip.evaluate import generate_scenes
    from uoisc_train.vlf.scene_features import embed_scenes

    backbone = load_tiny_clip()
    config = VlfConfig(backbone=backbone.model_name, embed_dim=backbone.embed_dim,
                       quantizer=args.quantizer, segment_length=args.segment_length,
                       codebook_size=args.codebook_size, scalar_bits=args.scalar_bits)
    if args.fit_scenes < (config.codebook_size if config.quantizer == "vq" else 2):
        parser.error(f"--fit-scenes {args.fit_scenes} is too few to fit the quantiser")
    transmitter = VlfTransmitter(config, backbone)
    features = embed_scenes(backbone, generate_scenes("train", args.fit_scenes, args.seed))
    transmitter.fit_quantizer(features, seed=args.seed)
    provenance = {"clip": "models/uoisc-tiny-clip", "fit": {"split": "train", "scenes": args.fit_scenes,
                                                            "seed": args.seed}}
    return transmitter, provenance


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (transmitter-only folder); returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    transmitter, provenance = fit_tiny_transmitter(args, parser)
    spec = export_vlf_bundle(transmitter, args.out, args.model_id or Path(args.out).name, provenance)
    print(json.dumps({"out": str(args.out), "bits_per_image": spec["bits_per_image"],
                      "parity": spec["parity"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
