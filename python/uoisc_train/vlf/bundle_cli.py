"""The complete VLF-MSC bundle: transmitter + caption decoder + denoiser in one hash-checked folder.

``export.py`` writes the transmitter's graphs; this module adds the two receivers
(``caption_export``, ``diffusion_export``) and lists them in codec.json under
``caption_decoder`` and ``generator``, which is what ``uoisc_runtime.load_vlf_bundle`` and
the GNU Radio ``vlf_encoder``/``vlf_decoder`` blocks read. The shipped bundle::

    python -m uoisc_train.vlf.bundle_cli --out models/uoisc-tiny-vlf

(tiny CLIP + k-means VQ l_s = 4, K = 256 on 2,000 train scenes, the shipped
``models/uoisc-tiny-vlf-caption`` and ``models/uoisc-tiny-vlf-generator``). Every part is
parity-checked against torch while it is written, and the finished folder is loaded once
with the runtime before the command reports success.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from torch import nn

from uoisc_runtime import load_vlf_bundle, sha256_file
from uoisc_train.export import SPEC_FILE
from uoisc_train.vlf.caption_export import CAPTION_GRAPH_FILE, CAPTION_SPEC_FILE, export_caption_decoder
from uoisc_train.vlf.diffusion_export import DENOISER_FILE, DENOISER_META_FILE, export_denoiser
from uoisc_train.vlf.export import build_parser as build_transmitter_parser
from uoisc_train.vlf.export import export_vlf_bundle, fit_tiny_transmitter
from uoisc_train.vlf.transmitter import VlfTransmitter

__all__ = ["receiver_fields", "export_complete_vlf_bundle", "build_parser", "main"]

_log = logging.getLogger(__name__)


def receiver_fields(out_dir: str | Path, caption_spec: dict[str, Any],
                    denoiser_meta: dict[str, Any]) -> dict[str, Any]:
    """codec.json's ``caption_decoder`` and ``generator`` fields for receivers exported to
    ``out_dir`` (graph and JSON sha256, and the widths the runtime checks)."""
    out_dir = Path(out_dir)
    config = denoiser_meta["diffusion_config"]
    return {
        "caption_decoder": {"file": CAPTION_GRAPH_FILE, "sha256": caption_spec["graph"]["sha256"],
                            "spec_file": CAPTION_SPEC_FILE,
                            "spec_sha256": sha256_file(out_dir / CAPTION_SPEC_FILE),
                            "embed_dim": caption_spec["embed_dim"], "max_len": caption_spec["max_len"],
                            "vocabulary_size": len(caption_spec["vocabulary"]), "decoding": "greedy"},
        "generator": {"file": DENOISER_FILE, "sha256": denoiser_meta["sha256"],
                      "spec_file": DENOISER_META_FILE,
                      "spec_sha256": sha256_file(out_dir / DENOISER_META_FILE),
                      "feature_dim": config["feature_dim"], "sample_size": config["sample_size"],
                      "output_size": config["image_size"], "timesteps": config["timesteps"],
                      "sampler": "ddim_cfg"},
    }


def export_complete_vlf_bundle(transmitter: VlfTransmitter, caption_decoder: nn.Module,
                               generator: nn.Module, out_dir: str | Path, model_id: str,
                               provenance: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write all four graphs, their JSON and codec.json (last, so a failed export leaves no
    folder the runtime accepts), then load the folder with the runtime once.

    Args:
        transmitter: a fitted ``VlfTransmitter``.
        caption_decoder: a ``CaptionDecoder`` of width ``embed_dim``.
        generator: a ``FeatureToImageDiffusion`` with ``feature_dim = embed_dim``.
        out_dir: the bundle folder (created if needed).
        model_id: the bundle's name (in the fingerprint of every frame).
        provenance: recorded under codec.json's ``exported_by``.

    Returns:
        The codec.json dict.

    Raises:
        ValueError: receivers whose feature width is not the transmitter's ``embed_dim``.
        ExportParityError, RuntimeError: a part whose onnxruntime output differs from torch.
    """
    embed_dim = transmitter.config.embed_dim
    widths = {"caption_decoder.config.embed_dim": caption_decoder.config.embed_dim,
              "generator.config.feature_dim": generator.config.feature_dim}
    for name, width in widths.items():
        if width != embed_dim:
            raise ValueError(f"{name}={width} differs from the transmitter's embed_dim={embed_dim}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SPEC_FILE).unlink(missing_ok=True)
    caption_spec = export_caption_decoder(caption_decoder, out_dir)
    denoiser_meta = export_denoiser(generator, out_dir)
    spec = export_vlf_bundle(transmitter, out_dir, model_id, provenance,
                             receivers=receiver_fields(out_dir, caption_spec, denoiser_meta))
    load_vlf_bundle(out_dir, providers=["CPUExecutionProvider"], intra_op_threads=1)
    _log.info("wrote the complete VLF bundle %s", out_dir)
    return spec


def build_parser():
    """The transmitter export's arguments plus the two receiver model folders."""
    parser = build_transmitter_parser()
    parser.prog = "python -m uoisc_train.vlf.bundle_cli"
    parser.description = ("Write a complete VLF-MSC bundle: tiny CLIP transmitter with a fitted "
                          "quantiser, caption decoder and diffusion denoiser, all as ONNX.")
    parser.add_argument("--caption-model", default=None,
                        help="caption decoder model folder (default: models/uoisc-tiny-vlf-caption)")
    parser.add_argument("--generator-model", default="models/uoisc-tiny-vlf-generator",
                        help="diffusion generator model folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    from uoisc_train.vlf.caption_artefact import load_caption_decoder
    from uoisc_train.vlf.diffusion_artefact import load_generator

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    transmitter, provenance = fit_tiny_transmitter(args, parser)
    caption_decoder, _ = load_caption_decoder(args.caption_model)
    provenance = {**provenance, "caption_model": args.caption_model or "models/uoisc-tiny-vlf-caption",
                  "generator_model": args.generator_model}
    spec = export_complete_vlf_bundle(transmitter, caption_decoder, load_generator(args.generator_model),
                                      args.out, args.model_id or Path(args.out).name, provenance)
    print(json.dumps({"out": str(args.out), "bits_per_image": spec["bits_per_image"],
                      "parity": spec["parity"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
