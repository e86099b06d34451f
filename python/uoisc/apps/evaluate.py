#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""uoisc-eval: answer match rate vs Es/N0 through the GNU Radio PHY, per system, fading and split.

For every point (system, fading, split, Es/N0) the same (scene, question) pairs
(``eval_pairs``) go through the real flowgraph (``eval_link``: codec blocks,
LDPC + 8-PSK, fading channel, receiver with estimated CSI); the tiny VQA judge
scores the reconstructions (``eval_metrics``: answer match rate, accuracy,
relevance loss of eq. 11, PSNR; a lost image counts as mid-grey). Each point is
stored as it finishes (``eval_store``), so an interrupted sweep resumes; at the
end ``results.json``, ``tables.md`` and the plots are written (``eval_report``,
``eval_plots``)::

    uoisc-eval --systems uoisc no-text no-vlm jpeg2000 jpeg2000@3000 \\
        --esno-db 0 5 10 15 20 --fading rayleigh --split test_zeroshot -n 50 --out results/sweep
"""

import argparse
import itertools
import logging
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from gnuradio.uoisc.apps import (eval_link, eval_metrics, eval_pairs, eval_plots, eval_report, eval_store,
                                 link_report, phy_sim, semantic_link)
from gnuradio.uoisc.phy import codes, link_sim

logger = logging.getLogger(__name__)

DEFAULT_SYSTEMS = ("uoisc", "no-text", "no-vlm", "jpeg2000")
DEFAULT_ESNO_DB = (0.0, 5.0, 10.0, 15.0, 20.0)
SPLITS = ("test_zeroshot", "test_seen")
#: Rows of the Fig.-3-like grid (every reconstruction of a point is kept for it).
N_EXAMPLES = 4
EXAMPLES_SUFFIX = ".examples.npz"


def add_sweep_arguments(parser, default_systems, systems_help):
    """The "sweep" argument group (systems, Es/N0, fading, split, pairs), shared with
    ``uoisc-vlf-eval``; returns the group."""
    sweep = parser.add_argument_group("sweep")
    sweep.add_argument("-S", "--systems", nargs="+", default=list(default_systems), help=systems_help)
    sweep.add_argument("-e", "--esno-db", nargs="+", type=float, default=list(DEFAULT_ESNO_DB),
                       help="Es/N0 points in dB")
    sweep.add_argument("-f", "--fading", nargs="+", choices=link_sim.FADINGS, default=["rayleigh"],
                       help="channel models")
    sweep.add_argument("--split", nargs="+", choices=SPLITS, default=["test_zeroshot"], help="world splits")
    sweep.add_argument("-n", "--n-pairs", type=int, default=50,
                       help="(scene, question) pairs per point, one transmission each")
    sweep.add_argument("--pair-seed", type=int, default=eval_pairs.EVAL_SEED,
                       help="dataset seed of the scenes")
    sweep.add_argument("--image-size", type=int, default=64, help="scene side in pixels (the bundles' size)")
    return sweep


def add_link_arguments(parser):
    """The "link" argument group (code, Doppler, channel seed, providers, window, settle time);
    returns the group."""
    link = parser.add_argument_group("link")
    link.add_argument("-c", "--code", choices=codes.list_codes(), default=codes.DEFAULT_CODE,
                      help="LDPC code")
    link.add_argument("-d", "--doppler", type=float, default=0.0,
                      help="normalised Doppler (0 = one fade per burst)")
    link.add_argument("-s", "--seed", type=int, default=0, help="seed of the channel")
    link.add_argument("--providers", default="auto", help="onnxruntime providers of the codec blocks")
    link.add_argument("--window", type=int, default=4, help="images in flight")
    # 10 s, not 3: on a busy machine a burst whose 15 codewords all fail runs 50 LDPC
    # iterations each and arrived after 3 s, so whole points were written off as lost.
    link.add_argument("--settle-s", type=float, default=10.0,
                      help="give up on the rest of a point's images after this long without an arrival")
    return link


def add_output_arguments(parser, default_out):
    """The "output" argument group (folder, force, judge, models root, threads, logging);
    returns the group."""
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--out", default=default_out, help="output folder")
    out.add_argument("--force", action="store_true", help="recompute points already stored")
    out.add_argument("--judge", default=link_report.DEFAULT_JUDGE, help="tiny VQA judge folder")
    out.add_argument("--models-root", default=".", help="folder the shipped bundles (models/...) are in")
    out.add_argument("--threads", type=int, default=1, help="torch threads of the judge")
    out.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    phy_sim.add_log_level_argument(out)
    # INFO would log every burst of a sweep; decode problems still show at "warn".
    parser.set_defaults(log_level="warn")
    return out


def build_parser():
    parser = argparse.ArgumentParser(prog="uoisc-eval", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_sweep_arguments(parser, DEFAULT_SYSTEMS, "uoisc, no-text, no-vlm, jpeg2000 (uoisc's symbols), "
                                                 "jpeg2000@<bytes> or bundle folders (e.g. other segment lengths); "
                                                 "append :<code> to send one with another PHY code "
                                                 "(e.g. jpeg2000@424:n1800_k902x4)")
    add_link_arguments(parser)
    add_output_arguments(parser, "results/eval")
    return parser


def check_args(parser, args):
    """Cross-argument checks (``parser.error`` exits with a usage message)."""
    if args.n_pairs < 1 or args.window < 1 or args.threads < 1 or args.settle_s <= 0:
        parser.error("--n-pairs, --window and --threads must be >= 1 and --settle-s > 0")
    for system in args.systems:
        try:
            model, _ = eval_link.resolve_system(eval_link.split_code(system, args.code)[0], args.models_root)
        except ValueError as err:
            parser.error(str(err))
        if model != eval_link.semantic_link.JPEG2000:
            size = _bundle_image_size(model)
            if size != args.image_size:
                parser.error(f"system {system}: bundle image size {size} != --image-size {args.image_size}")
    if len(set(args.systems)) != len(args.systems):
        parser.error(f"--systems lists a system twice: {args.systems}")


def _bundle_image_size(model):
    from uoisc_runtime import load_bundle
    return load_bundle(model, providers=["CPUExecutionProvider"]).image_size


def point_configs(args):
    """One config dict per point, in sweep order (system, fading, split, Es/N0)."""
    configs = []
    for system, fading, split, esno in itertools.product(args.systems, args.fading, args.split, args.esno_db):
        base, code = eval_link.split_code(system, args.code)
        model, jpeg2000_bytes = eval_link.resolve_system(base, args.models_root)
        configs.append({"system": system, "model": model, "jpeg2000_bytes": jpeg2000_bytes,
                        "fading": fading, "split": split, "esno_db": float(esno), "n_pairs": args.n_pairs,
                        "pair_seed": args.pair_seed, "channel_seed": args.seed, "code": code,
                        "doppler": args.doppler, "judge": args.judge})
    return configs


def examples_path(out_dir, config):
    return eval_store.point_path(out_dir, config).with_suffix(EXAMPLES_SUFFIX)


def evaluate_point(config, pairs, judge, transmit, work_dir):
    """Transmit and score one point.

    Args:
        config: the point's config (:func:`point_configs`).
        pairs: its (scene, question) pairs.
        judge: the VQA judge.
        transmit: ``transmit(pairs, config, work_dir) -> (reconstructions, link)``
            (:func:`flowgraph_transmitter`, or a stand-in codec in tests).
        work_dir: scratch folder.

    Returns:
        ``(point, reconstructions)``.
    """
    start = time.monotonic()
    reconstructions, link = transmit(pairs, config, work_dir)
    scores = eval_metrics.score_pairs(pairs, reconstructions, judge)
    point = {"schema": eval_store.POINT_SCHEMA, "key": eval_store.point_key(config), "config": config,
             "metrics": eval_metrics.summarize_scores(scores), "link": link, "pairs": scores,
             "elapsed_s": time.monotonic() - start}
    return eval_store.json_ready(point), reconstructions


def flowgraph_transmitter(settings):
    """A ``transmit`` for :func:`evaluate_point` that runs the GNU Radio flowgraph."""
    def transmit(pairs, config, work_dir):
        return eval_link.transmit(pairs, config["system"], config["fading"], config["esno_db"], work_dir,
                                  settings)
    return transmit


def run_sweep(configs, out_dir, transmit, judge_loader, pairs_for, force=False, progress=True, commit=None):
    """Every point of ``configs``, computed or loaded when already stored.

    Args:
        configs: point configs.
        out_dir: the sweep's folder.
        transmit: see :func:`evaluate_point`.
        judge_loader: returns the judge (called once, only when a point is computed).
        pairs_for: ``pairs_for(config) -> pairs``.
        force: recompute stored points.
        progress: show a tqdm bar.
        commit: recorded in each computed point (the checkout that produced it).

    Returns:
        ``(points, n_computed)``.
    """
    from tqdm import tqdm

    points, judge, n_computed = [], None, 0
    bar = tqdm(configs, desc="uoisc-eval", unit="point", disable=not progress)
    for config in bar:
        bar.set_postfix_str(eval_store.point_key(config))
        if not force and eval_store.is_done(out_dir, config):
            point = eval_store.load_point(eval_store.point_path(out_dir, config))
            # Metrics are a function of the stored pair scores: refresh them so points
            # computed by an older version report every current metric.
            point["metrics"] = eval_store.json_ready(eval_metrics.summarize_scores(point["pairs"]))
            # Likewise the symbols are a count, not a measurement: points stored before 006b6ea
            # left the payload pilots out of it.
            point["link"]["channel_symbols_per_image"] = semantic_link.burst_symbols(
                point["link"]["payload_bytes"], point["config"]["code"])
            points.append(point)
            continue
        if judge is None:
            judge = judge_loader()
        pairs = pairs_for(config)
        with tempfile.TemporaryDirectory(prefix="uoisc-eval-") as work_dir:
            point, reconstructions = evaluate_point(config, pairs, judge, transmit, work_dir)
        point["commit"] = commit
        eval_store.save_point(out_dir, point)
        shown = [eval_metrics.stand_in(r, p.image.shape) for p, r in zip(pairs, reconstructions)]
        np.savez_compressed(examples_path(out_dir, config), images=np.stack(shown),
                            lost=np.array([r is None for r in reconstructions]))
        logger.info("%s: AMR %s, %d lost", point["key"], point["metrics"]["answer_match_rate"],
                    point["metrics"]["n_lost"])
        points.append(point)
        n_computed += 1
    return points, n_computed


def _preferred(values, preferred):
    return preferred if preferred in values else sorted(values)[0]


def example_rows(stored, n_rows=N_EXAMPLES):
    """Pairs for the Fig.-3-like grid: the first ``n_rows`` that every shown system received
    (a grid of lost, grey images says nothing), topped up with lost ones when too few arrived.

    Args:
        stored: per system, the ``lost`` flags of its stored reconstructions.
    """
    n = min(len(lost) for lost in stored)
    received_by_all = [i for i in range(n) if not any(lost[i] for lost in stored)]
    others = [i for i in range(n) if i not in received_by_all]
    return (received_by_all + others)[:n_rows]


def write_figures(points, out_dir, pairs_for):
    """The Es/N0 plots and the Fig.-3-like grid; returns the written paths."""
    paths = [
        eval_plots.plot_vs_esno(points, "answer_match_rate", "answer match rate",
                                os.path.join(out_dir, "amr_vs_esno.png")),
        eval_plots.plot_vs_esno(points, "relevance_loss", "relevance loss (eq. 11)",
                                os.path.join(out_dir, "relevance_vs_esno.png")),
    ]
    fading = _preferred({p["config"]["fading"] for p in points}, "rayleigh")
    split = _preferred({p["config"]["split"] for p in points}, "test_zeroshot")
    esno = min(p["config"]["esno_db"] for p in points)
    shown = [p for p in eval_report.select(points, fading=fading, split=split, esno_db=esno)
             if examples_path(out_dir, p["config"]).exists()]
    if not shown:
        return paths
    path = os.path.join(out_dir, f"examples_{fading}_{split}.png")
    write_example_grid(shown, [p["pairs"] for p in shown], pairs_for(shown[0]["config"]), out_dir, path)
    return paths + [path]


def write_example_grid(shown, image_scores, pairs, out_dir, path):
    """The Fig.-3-like grid of points' stored reconstructions (one column per point).

    Args:
        shown: points of one split whose examples are stored (:func:`examples_path`).
        image_scores: per point, its per-pair judge scores (``eval_metrics.score_pairs``).
        pairs: the pairs of their split.
        out_dir: the sweep's folder.
        path: PNG to write.

    Returns:
        the pair indices shown as rows (:func:`example_rows`).
    """
    stored = []
    for point in shown:
        with np.load(examples_path(out_dir, point["config"])) as data:
            stored.append((data["images"], data["lost"]))
    rows = example_rows([lost for _, lost in stored])
    columns = []
    for point, scores, (images, _) in zip(shown, image_scores, stored):
        answers = [scores[i]["answer_reconstruction"] + (" (lost)" if scores[i]["lost"] else "")
                   for i in rows]
        columns.append((f"{point['config']['system']} @ {point['config']['esno_db']:g} dB", images[rows], answers))
    original_answers = [image_scores[0][i]["answer_original"] for i in rows]
    eval_plots.plot_examples([pairs[i] for i in rows], original_answers, columns, path)
    return rows


def git_commit(root="."):
    """The checkout's commit (with ``-dirty`` when files differ), or None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                                cwd=root).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True, cwd=root).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def pair_cache(image_size):
    """``pairs_for(config)``: the pairs of a config's split, generated once per (split, n, seed)."""
    cache = {}

    def pairs_for(config):
        key = (config["split"], config["n_pairs"], config["pair_seed"])
        if key not in cache:
            cache[key] = eval_pairs.make_pairs(*key[:2], size=image_size, seed=key[2])
        return cache[key]
    return pairs_for


def parse_and_configure(parser, argv, check):
    """Parse ``argv``, run ``check(parser, args)``, then set the log levels (Python's and GNU
    Radio's) and torch's threads from the output arguments; returns the arguments."""
    args = parser.parse_args(argv)
    check(parser, args)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    phy_sim.set_gr_log_level(args.log_level)
    import torch
    torch.set_num_threads(args.threads)
    return args


def main(argv=None):
    """Run the sweep; returns 0 (``parser.error`` exits 2 on bad arguments)."""
    parser = build_parser()
    args = parse_and_configure(parser, argv, check_args)

    def load_judge():
        from uoisc_train.judges import load_tiny_judge
        return load_tiny_judge(args.judge)

    settings = eval_link.LinkSettings(root=args.models_root, code=args.code, doppler=args.doppler,
                                      channel_seed=args.seed, providers=args.providers, window=args.window,
                                      settle_s=args.settle_s)
    pairs_for = pair_cache(args.image_size)
    commit = git_commit()
    points, n_computed = run_sweep(point_configs(args), args.out, flowgraph_transmitter(settings), load_judge,
                                   pairs_for, force=args.force, commit=commit)
    ratio = eval_report.symbols_ratio(points)
    command = "uoisc-eval " + " ".join(sys.argv[1:] if argv is None else argv)
    results_path = eval_store.write_results(args.out, points, commit, command, ratio)
    tables_path = os.path.join(args.out, "tables.md")
    with open(tables_path, "w", encoding="utf-8") as f:
        f.write(eval_report.markdown_tables(points))
    figures = write_figures(points, args.out, pairs_for)
    print(f"{n_computed} points computed, {len(points) - n_computed} loaded; wrote {results_path}, "
          f"{tables_path}, " + ", ".join(figures))
    if ratio is not None:
        print(f"JPEG2000 symbols for uoisc's AMR at {ratio['esno_db']:g} dB ({ratio['fading']}, "
              f"{ratio['split']}): ratio {ratio['ratio']:.2f} ({ratio['bound']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
