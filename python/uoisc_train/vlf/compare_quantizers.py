"""Which quantiser keeps more of the VLF feature per bit: segment VQ or uniform scalar?

Example (the table in ``docs/vlf.md``)::

    python -m uoisc_train.vlf.compare_quantizers --out runs/vlf-quantizers.json

Features: the shipped tiny CLIP's ``image_embedding`` of generated scenes. Each
quantiser is fitted on ``train`` scenes (k-means codebooks / quantile ranges) and
scored on ``test_seen`` and ``test_zeroshot`` scenes of another seed stream by the
mean cosine similarity of the dequantised feature to the original (what the
receivers see) and the mean squared error per element. With ``--caption-decoder``
the shipped caption decoder also captions every split's dequantised features
(greedy) and the caption metrics are recorded per geometry. Every geometry of a
row sends exactly the same number of bits per image.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import torch

from uoisc_train.runs import git_commit, machine_description
from uoisc_train.vlf.config import VlfConfig
from uoisc_train.vlf.transmitter import VlfTransmitter

__all__ = ["GEOMETRIES", "score_quantizer", "main"]

_log = logging.getLogger("uoisc_train.vlf.compare_quantizers")

#: (quantizer, field changes) per compared geometry; bits for E = 128 in the comments.
GEOMETRIES = (
    ("vq", {"segment_length": 8, "codebook_size": 256}),   # 16 x 8 = 128 bits
    ("vq", {"segment_length": 4, "codebook_size": 16}),    # 32 x 4 = 128
    ("vq", {"segment_length": 2, "codebook_size": 4}),     # 64 x 2 = 128
    ("scalar", {"scalar_bits": 1}),                        # 128 x 1 = 128
    ("vq", {"segment_length": 4, "codebook_size": 256}),   # 32 x 8 = 256
    ("vq", {"segment_length": 2, "codebook_size": 16}),    # 64 x 4 = 256
    ("vq", {"segment_length": 1, "codebook_size": 4}),     # 128 x 2 = 256 (k-means scalar)
    ("scalar", {"scalar_bits": 2}),                        # 128 x 2 = 256
    ("vq", {"segment_length": 2, "codebook_size": 256}),   # 64 x 8 = 512
    ("vq", {"segment_length": 1, "codebook_size": 16}),    # 128 x 4 = 512 (k-means scalar)
    ("scalar", {"scalar_bits": 4}),                        # 128 x 4 = 512
)


@torch.no_grad()
def score_quantizer(transmitter: VlfTransmitter, features: torch.Tensor) -> dict[str, float]:
    """Mean cosine similarity and MSE per element of dequantised vs original features."""
    restored = transmitter.dequantize(transmitter.quantize_feature(features))
    cosine = torch.nn.functional.cosine_similarity(restored, features, dim=-1)
    return {"cosine_mean": float(cosine.mean()), "cosine_min": float(cosine.min()),
            "mse": float((restored - features).pow(2).mean())}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.vlf.compare_quantizers",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-o", "--out", required=True, help="JSON file to write")
    parser.add_argument("--fit-scenes", type=int, default=2000, help="train scenes to fit on")
    parser.add_argument("--eval-scenes", type=int, default=200, help="scenes per test split")
    parser.add_argument("--seed", type=int, default=0, help="training dataset seed and k-means seed")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--caption-decoder", nargs="?", const="", default=None, metavar="FOLDER",
                        help="also score captions of the dequantised features with this caption "
                             "decoder folder (no value: the shipped one)")
    return parser


def main(argv: list[str] | None = None) -> dict:
    """CLI entry point; returns the results dict (also written to ``--out``)."""
    from uoisc_train.clip import load_tiny_clip
    from uoisc_train.clip.evaluate import generate_scenes
    from uoisc_train.vlf.caption_metrics import caption_metrics
    from uoisc_train.vlf.scene_features import embed_scenes
    from uoisc_train.vlf.train_caption import EVAL_SEED, EVAL_SPLITS

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fit_scenes < 256 or args.eval_scenes < 1:
        parser.error("--fit-scenes must be >= 256 (largest codebook) and --eval-scenes >= 1")
    torch.set_num_threads(args.threads)
    started = time.monotonic()
    backbone = load_tiny_clip()
    train = embed_scenes(backbone, generate_scenes("train", args.fit_scenes, args.seed))
    tests = {split: embed_scenes(backbone, generate_scenes(split, args.eval_scenes, EVAL_SEED))
             for split in EVAL_SPLITS}
    captioner = None
    if args.caption_decoder is not None:
        from uoisc_train.vlf.caption_artefact import load_caption_decoder
        captioner, _ = load_caption_decoder(args.caption_decoder or None)
        scenes = {split: generate_scenes(split, args.eval_scenes, EVAL_SEED) for split in EVAL_SPLITS}
        references = {split: [s.caption for s in scenes[split]] for split in EVAL_SPLITS}
    rows = []
    for quantizer, changes in GEOMETRIES:
        config = VlfConfig(embed_dim=backbone.embed_dim, quantizer=quantizer, **changes)
        transmitter = VlfTransmitter(config, backbone)
        transmitter.fit_quantizer(train, seed=args.seed)
        row = {"quantizer": quantizer, **changes, "bits": config.bits_per_feature,
               **{split: score_quantizer(transmitter, features) for split, features in tests.items()}}
        if captioner is not None:
            for split, features in tests.items():
                with torch.no_grad():
                    restored = transmitter.dequantize(transmitter.quantize_feature(features))
                row[split]["caption"] = caption_metrics(references[split], captioner.caption(restored))
        _log.info("%s", row)
        rows.append(row)
    results = {"command": " ".join([parser.prog, *(sys.argv[1:] if argv is None else argv)]),
               "git_commit": git_commit(), "machine": machine_description(),
               "fit": {"split": "train", "scenes": args.fit_scenes, "seed": args.seed},
               "eval": {"splits": list(EVAL_SPLITS), "scenes": args.eval_scenes, "seed": EVAL_SEED},
               "wall_s": round(time.monotonic() - started, 1), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
