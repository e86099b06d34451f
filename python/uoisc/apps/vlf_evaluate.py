#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""uoisc-vlf-eval: VLF-MSC's caption and image vs Es/N0 through the GNU Radio PHY, against text-only
and image-only baselines.

For every point (system, fading, split, Es/N0) the same scenes (issue 6's
pairs, ``eval_pairs``) are sent through the real LDPC + 8-PSK PHY and fading
channel (``vlf_eval_link``). Text systems are scored on the received caption
against the scene's ground-truth caption (``vlf_eval_metrics``: object, colour,
shape, size, position, count, background accuracy; a lost frame is an empty
caption); image systems with the tiny VQA judge's answer match, generated or
received image vs original, same question (``eval_metrics``; a lost image is
mid-grey). Each point is stored as it finishes and a rerun resumes
(``eval_store``); at the end ``results.json``, ``tables.md`` and the plots are
written (``vlf_eval_report``)::

    uoisc-vlf-eval --systems vlf caption-utf8 caption-utf8@vlf jpeg2000@208 \\
        --esno-db 0 5 10 15 20 --fading rayleigh --split test_zeroshot test_seen -n 100 --out results/vlf
"""

import argparse
import functools
import itertools
import logging
import os
import sys
import tempfile
import time

import numpy as np

from gnuradio.uoisc.apps import (eval_link, eval_metrics, eval_store, evaluate, vlf_eval_link,
                                 vlf_eval_metrics, vlf_eval_report, vlf_eval_store, vlf_eval_systems)

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "models/uoisc-tiny-vlf"
#: JPEG2000 at two codewords (208 codestream bytes): the smallest codestream of a 64 x 64
#: scene is 178-187 bytes, more than the one codeword (100 codestream bytes) VLF's frame uses.
DEFAULT_SYSTEMS = ("vlf", "caption-utf8", "caption-utf8@vlf", "jpeg2000@208")
#: System name of the chance-level rows (:func:`chance_points`).
CHANCE = "chance (another scene)"


def build_parser():
    parser = argparse.ArgumentParser(prog="uoisc-vlf-eval", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    evaluate.add_sweep_arguments(parser, DEFAULT_SYSTEMS, "vlf, caption-utf8, caption-utf8@<bytes>, caption-utf8@vlf "
                                                          "(the VLF frame's bytes), jpeg2000@<bytes>")
    vlf = parser.add_argument_group("VLF receiver")
    vlf.add_argument("-m", "--model", default=DEFAULT_MODEL, help="VLF bundle folder (relative to --models-root)")
    vlf.add_argument("--steps", type=int, default=10, help="DDIM steps of the image generator")
    vlf.add_argument("--guidance", type=float, default=3.0, help="classifier-free guidance scale")
    vlf.add_argument("--generator-seed", type=int, default=0, help="image of frame seq starts from seed + seq")
    evaluate.add_link_arguments(parser)
    out = evaluate.add_output_arguments(parser, "results/vlf-eval")
    out.add_argument("--reference-results", nargs="*", default=list(vlf_eval_report.DEFAULT_REFERENCE_RESULTS),
                     help="issue 6 uoisc-eval results.json files with the image-only points (first match wins)")
    out.add_argument("--reference-systems", nargs="*", default=list(vlf_eval_report.DEFAULT_REFERENCE_SYSTEMS),
                     help="their systems to show")
    return parser


def _uses_vlf_codec(spec):
    return spec.kind == vlf_eval_systems.KIND_VLF or spec.name.endswith("@" + vlf_eval_systems.VLF_BUDGET)


def check_args(parser, args):
    """Cross-argument checks (``parser.error`` exits with a usage message)."""
    if args.n_pairs < 1 or args.window < 1 or args.threads < 1 or args.steps < 1 or args.settle_s <= 0:
        parser.error("--n-pairs, --window, --threads and --steps must be >= 1 and --settle-s > 0")
    if len(set(args.systems)) != len(args.systems):
        parser.error(f"--systems lists a system twice: {args.systems}")
    for system in args.systems:
        try:
            # Any positive count stands in for the VLF frame's bytes: only the names are checked here.
            vlf_eval_systems.resolve_system(system, vlf_payload_bytes=1)
        except ValueError as err:
            parser.error(str(err))


def point_configs(args, vlf_payload_bytes, model):
    """One config dict per point, in sweep order (system, fading, split, Es/N0).

    Settings a system does not use are None, so changing them does not redo its points.
    """
    configs = []
    for system, fading, split, esno in itertools.product(args.systems, args.fading, args.split, args.esno_db):
        spec = vlf_eval_systems.resolve_system(system, vlf_payload_bytes)
        is_vlf = spec.kind == vlf_eval_systems.KIND_VLF
        configs.append({"system": system, "kind": spec.kind, "max_bytes": spec.max_bytes,
                        "model": model if _uses_vlf_codec(spec) else None, "fading": fading, "split": split,
                        "esno_db": float(esno), "n_pairs": args.n_pairs, "pair_seed": args.pair_seed,
                        "channel_seed": args.seed, "code": args.code, "doppler": args.doppler,
                        "judge": args.judge if spec.has_image else None,
                        "steps": args.steps if is_vlf else None, "guidance": args.guidance if is_vlf else None,
                        "generator_seed": args.generator_seed if is_vlf else None})
    return configs


class PhyTransmitter:
    """``transmit(config, pairs, references, work_dir) -> (captions, images, link)`` through the PHY.

    ``captions``/``images`` are None for a system without that output; inside, None
    marks a pair whose frame was lost.

    Args:
        settings: :class:`~gnuradio.uoisc.apps.eval_link.LinkSettings`.
        codec: the ``VlfCodec`` of the VLF points (None when the sweep has none).
    """

    def __init__(self, settings, codec=None):
        self.settings, self.codec = settings, codec

    def __call__(self, config, pairs, references, work_dir):
        channel = (config["fading"], config["esno_db"])
        if config["kind"] == vlf_eval_systems.KIND_VLF:
            generation = vlf_eval_link.GenerationSettings(steps=config["steps"], guidance=config["guidance"],
                                                          seed=config["generator_seed"])
            if self.codec is None:
                raise ValueError(f"point {config['system']!r} needs a VLF codec; none was given")
            return vlf_eval_link.transmit_vlf(pairs, self.codec, *channel, self.settings, generation)
        if config["kind"] == vlf_eval_systems.KIND_TEXT:
            captions, link = vlf_eval_link.transmit_captions(references, config["max_bytes"], *channel,
                                                             self.settings)
            return captions, None, link
        images, link = eval_link.transmit(pairs, config["system"], *channel, work_dir, self.settings)
        link.update(mean_payload_bytes=float(link["payload_bytes"]),
                    mean_channel_symbols_per_image=float(link["channel_symbols_per_image"]))
        return None, images, link


def evaluate_point(config, pairs, judge, transmit, work_dir):
    """Transmit and score one point (see :class:`PhyTransmitter` for ``transmit``).

    Returns:
        ``(point, images)``: the point and the received or generated images (None for a
        text-only system; inside, None marks a lost image).
    """
    start = time.monotonic()
    references = vlf_eval_metrics.reference_captions(pairs, config["split"])
    captions, images, link = transmit(config, pairs, references, work_dir)
    point = {"schema": vlf_eval_store.POINT_SCHEMA, "key": eval_store.point_key(config), "config": config,
             "text": None, "image": None, "link": link, "pairs": {"text": None, "image": None}}
    if captions is not None:
        point["pairs"]["text"] = vlf_eval_metrics.score_captions(references, captions)
        point["text"] = vlf_eval_metrics.summarize_captions(point["pairs"]["text"])
    if images is not None:
        point["pairs"]["image"] = eval_metrics.score_pairs(pairs, images, judge)
        point["image"] = eval_metrics.summarize_scores(point["pairs"]["image"])
    point["elapsed_s"] = time.monotonic() - start
    return eval_store.json_ready(point), images


def run_sweep(configs, out_dir, transmit, judge_loader, pairs_for, force=False, progress=True, commit=None):
    """Every point of ``configs``, computed or loaded when already stored.

    Args:
        configs: point configs (:func:`point_configs`).
        out_dir: the sweep's folder.
        transmit: see :class:`PhyTransmitter`.
        judge_loader: returns the judge (called once, when an image point is computed).
        pairs_for: ``pairs_for(config) -> pairs`` (``evaluate.pair_cache``).
        force: recompute stored points.
        progress: show a tqdm bar.
        commit: recorded in each computed point.

    Returns:
        ``(points, n_computed)``.
    """
    from tqdm import tqdm

    points, judge, n_computed = [], None, 0
    bar = tqdm(configs, desc="uoisc-vlf-eval", unit="point", disable=not progress)
    for config in bar:
        bar.set_postfix_str(eval_store.point_key(config))
        if not force and eval_store.is_done(out_dir, config, vlf_eval_store.check_point):
            points.append(eval_store.load_point(eval_store.point_path(out_dir, config), vlf_eval_store.check_point))
            continue
        if judge is None and config["judge"] is not None:
            judge = judge_loader()
        with tempfile.TemporaryDirectory(prefix="uoisc-vlf-eval-") as work_dir:
            pairs = pairs_for(config)
            point, images = evaluate_point(config, pairs, judge, transmit, work_dir)
        point["commit"] = commit
        eval_store.save_point(out_dir, point, vlf_eval_store.check_point)
        if images is not None:
            # Kept next to the point (not in results.json) for the example figure.
            shown = [eval_metrics.stand_in(image, pair.image.shape) for pair, image in zip(pairs, images)]
            np.savez_compressed(evaluate.examples_path(out_dir, config), images=np.stack(shown),
                                lost=np.array([image is None for image in images]))
        logger.info("%s: text object %s, image AMR %s, %d lost", point["key"],
                    (point["text"] or {}).get("object"), (point["image"] or {}).get("answer_match_rate"),
                    point["link"]["n_lost"])
        points.append(point)
        n_computed += 1
    return points, n_computed


def chance_points(configs, pairs_for, judge_loader):
    """The chance level of each (fading, split, Es/N0) of the sweep: every scene scored against
    the next scene's true caption and original image (a receiver that learned nothing about
    its scene), as points of the system :data:`CHANCE` (no link).

    Args:
        configs: the sweep's point configs.
        pairs_for: ``pairs_for(config) -> pairs``.
        judge_loader: returns the judge.
    """
    scored, points = {}, {}
    for config in configs:
        pairs_key = (config["split"], config["n_pairs"], config["pair_seed"])
        if pairs_key not in scored:
            pairs = pairs_for(config)
            references = vlf_eval_metrics.reference_captions(pairs, config["split"])
            text = vlf_eval_metrics.score_captions(references, vlf_eval_metrics.unrelated_captions(references))
            others = [pair.image for pair in pairs[1:] + pairs[:1]]
            scored[pairs_key] = (vlf_eval_metrics.summarize_captions(text),
                                 eval_metrics.summarize_scores(eval_metrics.score_pairs(pairs, others, judge_loader())))
        where = (config["fading"], config["split"], config["esno_db"])
        if where not in points:
            text, image = scored[pairs_key]
            points[where] = {"config": {"system": CHANCE, "fading": where[0], "split": where[1], "esno_db": where[2],
                                        "n_pairs": config["n_pairs"]}, "text": text, "image": image, "link": None}
    return eval_store.json_ready(list(points.values()))


def main(argv=None):
    """Run the sweep; returns 0 (``parser.error`` exits 2 on bad arguments)."""
    parser = build_parser()
    args = evaluate.parse_and_configure(parser, argv, check_args)

    model = os.path.join(args.models_root, args.model)
    specs = [vlf_eval_systems.resolve_system(s, vlf_payload_bytes=1) for s in args.systems]
    codec = None
    if any(_uses_vlf_codec(spec) for spec in specs):
        from uoisc_runtime import VlfCodec
        from gnuradio.uoisc.codec.link_meta import parse_providers
        try:
            # One onnxruntime thread: the sweep shares its cores with the flowgraph and the judge.
            codec = VlfCodec.from_path(model, providers=parse_providers(args.providers), intra_op_threads=1)
        except (OSError, ValueError) as err:
            parser.error(f"--model {model}: {err}")
        if codec.output_size != args.image_size:
            parser.error(f"VLF bundle generates {codec.output_size} px images, --image-size is {args.image_size}")

    @functools.cache
    def load_judge():
        from uoisc_train.judges import load_tiny_judge
        return load_tiny_judge(args.judge)

    settings = eval_link.LinkSettings(root=args.models_root, code=args.code, doppler=args.doppler,
                                      channel_seed=args.seed, providers=args.providers, window=args.window,
                                      settle_s=args.settle_s)
    configs = point_configs(args, codec.payload_bytes if codec else None, model)
    commit = evaluate.git_commit()
    pairs_for = evaluate.pair_cache(args.image_size)
    points, n_computed = run_sweep(configs, args.out, PhyTransmitter(settings, codec), load_judge,
                                   pairs_for, force=args.force, commit=commit)
    wanted = {(c["fading"], c["split"], c["esno_db"]) for c in configs}
    references = vlf_eval_report.reference_points(
        [os.path.join(args.models_root, p) for p in args.reference_results], args.reference_systems, wanted)
    chance = chance_points(configs, pairs_for, load_judge)
    command = "uoisc-vlf-eval " + " ".join(sys.argv[1:] if argv is None else argv)
    results_path = vlf_eval_store.write_results(args.out, points, commit, command, references, chance)
    tables_path = os.path.join(args.out, "tables.md")
    with open(tables_path, "w", encoding="utf-8") as f:
        f.write(vlf_eval_report.markdown_tables(points, references, chance))
    figures = vlf_eval_report.write_figures(points, references + chance, args.out)
    for fading, split in itertools.product(args.fading, args.split):
        figures += vlf_eval_report.write_examples(points, args.out, pairs_for, fading, split)
    print(f"{n_computed} points computed, {len(points) - n_computed} loaded; wrote {results_path}, "
          f"{tables_path}, " + ", ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
