#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""uoisc: send images and queries through the semantic codec and the GNU Radio PHY.

Subcommands:

- ``uoisc demo``: generated scenes from the offline world, each with one of its
  questions, through the loopback flowgraph on the shipped tiny bundle (flat
  Rayleigh at 5 dB by default).
- ``uoisc send IMAGE [IMAGE ...] --query "..."``: the same flowgraph on your
  own images (or a folder) with your query and bundle.

``--mode vlf`` sends one VLF-MSC feature per image instead (the shipped
``models/uoisc-tiny-vlf`` by default): the receiver writes a caption and
generates an image from it.

Both write, in ``--out``: the original and reconstructed PNGs, ``images.jsonl``
(one line per image from the sink), ``side_by_side.png`` (originals,
reconstructions, the query and the judge's answers; the captions in VLF mode)
and ``report.json`` (VLF mode: each caption and, for generated scenes, its
attribute accuracy against the scene's true caption).
"""

import argparse
import dataclasses
import json
import logging
import os
import subprocess
import sys

from gnuradio.uoisc.apps import link_report, phy_sim, semantic_link
from gnuradio.uoisc.phy import codes, link_sim

logger = logging.getLogger(__name__)


#: The bundle each ``--mode`` uses with ``--model auto`` (the default).
DEFAULT_MODELS = {semantic_link.UOISC: semantic_link.DEFAULT_MODEL, semantic_link.VLF: semantic_link.DEFAULT_VLF_MODEL}
AUTO_MODEL = "auto"


def _add_link_arguments(parser, out_default):
    codec = parser.add_argument_group("codec")
    codec.add_argument("--mode", choices=tuple(DEFAULT_MODELS), default=semantic_link.UOISC,
                       help="codec system: UO-ISC feature maps, or one VLF-MSC feature (caption + generated image)")
    codec.add_argument("-m", "--model", default=AUTO_MODEL,
                       help=f"model bundle folder of the mode; {AUTO_MODEL!r} = the mode's shipped bundle ("
                            + ", ".join(DEFAULT_MODELS.values())
                            + f"); {semantic_link.JPEG2000!r} = the baseline (uoisc mode)")
    codec.add_argument("--jpeg2000-bytes", type=int, default=0,
                       help="JPEG2000 byte budget (0 = the channel symbols of the default bundle)")
    codec.add_argument("--providers", default="auto",
                       help="onnxruntime providers, comma-separated (auto = CUDA if present, else CPU)")
    codec.add_argument("--threads", type=int, default=1,
                       help="onnxruntime intra-op threads per codec session (0 = one per core)")
    vlf = parser.add_argument_group("VLF receiver (--mode vlf)")
    vlf.add_argument("--steps", type=int, default=10, help="DDIM steps of the image generator")
    vlf.add_argument("--guidance", type=float, default=3.0, help="classifier-free guidance of the image generator")
    phy = parser.add_argument_group("channel and PHY")
    phy.add_argument("-e", "--esno-db", "--snr", type=float, default=5.0, help="Es/N0 in dB")
    phy.add_argument("-f", "--fading", choices=link_sim.FADINGS, default="rayleigh", help="channel model")
    phy.add_argument("-d", "--doppler", type=float, default=0.0,
                     help="normalised Doppler (0 = one fade per burst)")
    phy.add_argument("-c", "--code", choices=codes.list_codes(), default=codes.DEFAULT_CODE, help="LDPC code")
    phy.add_argument("-s", "--seed", type=int, default=0, help="seed of the channel (and of the scenes)")
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--out", default=out_default, help="output folder")
    out.add_argument("--judge", default=link_report.DEFAULT_JUDGE, help="VQA judge model folder")
    out.add_argument("--no-judge", action="store_true", help="skip the judge's answers (no torch needed)")
    phy_sim.add_log_level_argument(out)


def build_parser():
    parser = argparse.ArgumentParser(prog="uoisc", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="generated scenes and questions over the loopback",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    demo.add_argument("-n", "--n-images", type=int, default=6, help="scenes to send")
    demo.add_argument("--split", default="test_zeroshot",
                      help="world split (test_zeroshot holds the family the codec never saw)")
    _add_link_arguments(demo, "out/demo")
    send = commands.add_parser("send", help="your images and query over the loopback",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    send.add_argument("images", nargs="+", help="image files, or one folder")
    send.add_argument("-q", "--query", default="",
                      help="the user's query for every image (or a sidecar file; see docs/io.md)")
    _add_link_arguments(send, "out/send")
    return parser


def _git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=os.path.dirname(__file__)).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def config_from_args(args, parser):
    """The link configuration of a parsed command line (parser.error on bad combinations)."""
    model = DEFAULT_MODELS[args.mode] if args.model == AUTO_MODEL else args.model
    common = dict(model=model, out_dir=args.out, esno_db=args.esno_db, fading=args.fading,
                  doppler=args.doppler, code=args.code, seed=args.seed, providers=args.providers,
                  intra_op_threads=args.threads, jpeg2000_bytes=args.jpeg2000_bytes,
                  steps=args.steps, guidance=args.guidance)
    if args.command == "demo":
        config = semantic_link.SemanticLinkConfig(source="generator", split=args.split,
                                                  n_images=args.n_images, **common)
    else:
        if len(args.images) == 1:
            source, n_images = args.images[0], _count_images(args.images[0])
        else:
            parser.error("give one image file or one folder (put several images in a folder)")
        config = semantic_link.SemanticLinkConfig(source=source, queries=args.query,
                                                  n_images=n_images, **common)
    try:
        config.validate()
        system = config.system
    except ValueError as error:
        parser.error(str(error))
    if system != args.mode and not (system == semantic_link.JPEG2000 and args.mode == semantic_link.UOISC):
        parser.error(f"model {model!r} is a {system!r} bundle, not {args.mode!r}: "
                     f"pass --mode {system} or a {args.mode} bundle")
    return config


def _count_images(path):
    if os.path.isdir(path):
        from gnuradio.uoisc.io import images
        return max(1, len(images.list_images(path)))
    return 1


def main(argv=None):
    """Run one subcommand; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.INFO),
                        format="%(levelname)s %(name)s: %(message)s")
    phy_sim.set_gr_log_level(args.log_level)
    config = config_from_args(args, parser)
    result = semantic_link.run_semantic_link(config)
    if not args.no_judge:
        link_report.judge_answers(result["records"], config.out_dir, args.judge)
    caption_accuracy = link_report.score_captions(result["records"])
    payload_bytes = semantic_link.payload_bytes(config)
    report = {
        "command": " ".join(["uoisc"] + argv), "commit": _git_commit(), "machine": phy_sim.machine_info(),
        "config": dataclasses.asdict(config),
        "summary": link_report.summarize(result, payload_bytes,
                                         semantic_link.burst_symbols(payload_bytes, config.code),
                                         caption_accuracy),
        "images": result["records"], "lost": result["lost"],
    }
    figure = link_report.side_by_side(result["records"], config.out_dir,
                                      os.path.join(config.out_dir, "side_by_side.png"))
    with open(os.path.join(config.out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, default=str)
    print("\n".join(link_report.summary_lines(report)))
    print(f"  report          {os.path.join(config.out_dir, 'report.json')}"
          + (f" (+ {os.path.basename(figure)})" if figure else ""))
    return 0 if result["n_received"] else 1


if __name__ == "__main__":
    sys.exit(main())
