#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The segment-length sweep (paper Figs. 5-6) from what ``uoisc-eval`` stored.

Reads this folder's ``results.json`` (one bundle per segment length ``l_s``, and
JPEG2000 at some of their symbol counts, all through the same flowgraph, pairs and
fades), the JPEG2000 budget points of ``results/sweep/results.json`` (only those of
the same protocol), each bundle's ``codec.json`` and
clean-channel ``metrics.json`` and, when present, the per-pair scores in
``points/`` (for paired standard errors against the ``l_s`` = 8 bundle). Writes:

- ``summary.json``: per ``l_s`` the bits and channel symbols per image, relevance
  loss and answer match rate (AMR) per Es/N0, paired differences to ``l_s`` = 8 and
  to JPEG2000 at the same symbols, the clean-channel metrics, and the symbols
  JPEG2000 needs for the same AMR;
- ``fig5_relevance_amr_vs_esno.png``: relevance loss (eq. 11) and AMR vs Es/N0
  per ``l_s`` (Fig. 5, plus AMR);
- ``fig6_symbols_per_image.png``: channel symbols per image per ``l_s`` next to
  JPEG2000's budgets (Fig. 6).

Run from the repository root with the project's venv::

    python results/segment-sweep/summarize.py
"""

import argparse
import json
import math
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from gnuradio.uoisc.apps.eval_report import interpolate_symbols  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
#: Segment length of the shipped bundle: the reference of the paired differences.
REFERENCE_SEGMENT_LENGTH = 8
#: Es/N0 of the JPEG2000 symbols comparison (the issue's target point).
COMPARISON_ESNO_DB = 10.0


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def bundle_info(model_dir):
    """Segment length, bits per image and clean-channel metrics of a bundle folder."""
    codec = load_json(pathlib.Path(model_dir) / "codec.json")
    metrics_path = pathlib.Path(model_dir) / "metrics.json"
    clean = None
    if metrics_path.exists():
        metrics = load_json(metrics_path)
        clean = {"step": metrics["step"],
                 **{split: {k: s[k] for k in ("n_pairs", "mse", "psnr_db", "answer_match_rate",
                                              "answer_match_by_kind")}
                    for split, s in metrics["splits"].items()}}
    return {"segment_length": codec["segment_length"], "indices_shape": codec["indices_shape"],
            "codec_bits_per_image": codec["bits_per_image"], "training_step": codec["exported_by"]["step"],
            "clean_channel": clean}


def mean_and_se(values):
    """Mean and standard error of the mean (None for fewer than two values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


#: Config keys that must agree for two points to be comparable (all but the system's own).
PROTOCOL_KEYS = ("fading", "split", "n_pairs", "pair_seed", "channel_seed", "code", "doppler", "judge")


def load_points(results_path, systems=None):
    """Points of a ``results.json`` (only ``systems`` when given), each with the path of its
    per-pair file under ``points/`` next to it (``_pairs_file``)."""
    points_dir = pathlib.Path(results_path).parent / "points"
    return [{**p, "_pairs_file": points_dir / f"{p['key']}.json"} for p in load_json(results_path)["points"]
            if systems is None or p["config"]["system"] in systems]


def protocol(point):
    return {k: point["config"][k] for k in PROTOCOL_KEYS}


def check_same_protocol(points):
    """Raise ValueError when two points differ in pairs, channel, code or judge."""
    first = protocol(points[0])
    for point in points[1:]:
        if protocol(point) != first:
            raise ValueError(f"{point['key']} was measured with {protocol(point)}, not {first}")


def paired_differences(point, reference):
    """Per-pair (this − reference) relevance loss and answer match, mean and standard error.

    The pairs and the channel fades are shared by every system of the sweep, so the
    paired difference is tighter than the two independent standard errors. None when
    the per-pair files are not there.
    """
    paths = [p["_pairs_file"] for p in (point, reference)]
    if not all(path.exists() for path in paths):
        return None
    mine, ref = (load_json(path)["pairs"] for path in paths)
    if [p["image_id"] for p in mine] != [p["image_id"] for p in ref]:
        raise ValueError(f"{point['key']} and {reference['key']} were scored on different pairs")
    relevance = mean_and_se([a["relevance_loss"] - b["relevance_loss"] for a, b in zip(mine, ref)])
    match = mean_and_se([float(a["match"]) - float(b["match"]) for a, b in zip(mine, ref)])
    return {"relevance_loss": {"mean": relevance[0], "se": relevance[1]},
            "answer_match_rate": {"mean": match[0], "se": match[1]}}


def is_jpeg2000(point):
    return point["config"]["system"].startswith("jpeg2000")


def same_symbols_jpeg2000(entry, jpeg_points):
    """Per Es/N0, the JPEG2000 point with exactly this bundle's channel symbols and the paired
    (bundle − JPEG2000) differences; None when no such budget was measured."""
    symbols = entry["channel_symbols_per_image"]
    matching = [p for p in jpeg_points if p["link"]["channel_symbols_per_image"] == symbols]
    if not matching:
        return None
    by_esno = {p["config"]["esno_db"]: p for p in matching}
    return {"system": matching[0]["config"]["system"], "channel_symbols_per_image": symbols, "vs_esno": [
        {"esno_db": esno, "answer_match_rate": by_esno[esno]["metrics"]["answer_match_rate"],
         "relevance_loss": by_esno[esno]["metrics"]["relevance_loss"],
         "bundle_minus_jpeg2000": paired_differences(point, by_esno[esno])}
        for esno, point in ((p["config"]["esno_db"], p) for p in entry["points"]) if esno in by_esno]}


def per_segment_length(points):
    """One entry per bundle of the sweep, sorted by ``l_s``."""
    by_model = {}
    for point in points:
        by_model.setdefault(point["config"]["model"], []).append(point)
    entries = []
    for model, points in by_model.items():
        points.sort(key=lambda p: p["config"]["esno_db"])
        entries.append({"system": points[0]["config"]["system"], "model": model, **bundle_info(model),
                        "payload_bytes": points[0]["link"]["payload_bytes"],
                        "bits_per_image": points[0]["link"]["bits_per_image"],
                        "channel_symbols_per_image": points[0]["link"]["channel_symbols_per_image"],
                        "points": points})
    entries.sort(key=lambda e: e["segment_length"])
    lengths = [e["segment_length"] for e in entries]
    if len(set(lengths)) != len(lengths):
        raise ValueError(f"two bundles share a segment length: {[(e['system'], e['segment_length']) for e in entries]}")
    reference = next((e for e in entries if e["segment_length"] == REFERENCE_SEGMENT_LENGTH), None)
    for entry in entries:
        ref_points = {p["config"]["esno_db"]: p for p in reference["points"]} if reference else {}
        entry["vs_esno"] = [
            {"esno_db": p["config"]["esno_db"], "relevance_loss": p["metrics"]["relevance_loss"],
             "answer_match_rate": p["metrics"]["answer_match_rate"], "n_lost": p["metrics"]["n_lost"],
             "psnr_db": p["metrics"]["psnr_db"], "codeword_failure_rate": p["link"]["codeword_failure_rate"],
             "elapsed_s": p["elapsed_s"],
             "vs_reference": (paired_differences(p, ref_points[p["config"]["esno_db"]])
                              if p["config"]["esno_db"] in ref_points and entry is not reference else None)}
            for p in entry["points"]]
    return entries


def jpeg2000_curve(points, like, esno_db):
    """``[(system, symbols, amr)]`` of the JPEG2000 budgets at one Es/N0, by symbols.

    Args:
        points: points of a sweep with JPEG2000 budgets.
        like: a point of the segment sweep; only JPEG2000 points of its protocol are taken.
        esno_db: the Es/N0.
    """
    curve = [(p["config"]["system"], p["link"]["channel_symbols_per_image"], p["metrics"]["answer_match_rate"])
             for p in points if p["config"]["system"].startswith("jpeg2000")
             and p["config"]["esno_db"] == esno_db and protocol(p) == protocol(like)]
    return sorted(curve, key=lambda c: c[1])


def jpeg2000_comparison(entry, curve, esno_db):
    """Symbols JPEG2000 needs for this bundle's AMR at ``esno_db``, and the savings.

    ``fewer_symbols_than_smallest_jpeg2000`` is the paper's style of claim (fraction of
    symbols saved) against the smallest JPEG2000 budget measured; ``symbols_ratio`` is
    JPEG2000's symbols at equal AMR over the bundle's (bounded when not bracketed).
    """
    amr = next(v["answer_match_rate"] for v in entry["vs_esno"] if v["esno_db"] == esno_db)
    needed, bound = interpolate_symbols([(s, a) for _, s, a in curve], amr)
    symbols = entry["channel_symbols_per_image"]
    return {"esno_db": esno_db, "answer_match_rate": amr, "jpeg2000_symbols_for_same_amr": needed,
            "bound": bound, "symbols_ratio": (needed if needed is not None else curve[-1][1]) / symbols,
            "smallest_jpeg2000": {"system": curve[0][0], "symbols": curve[0][1], "answer_match_rate": curve[0][2]},
            "fewer_symbols_than_smallest_jpeg2000": 1.0 - symbols / curve[0][1]}


def plot_fig5(entries, path):
    config = entries[0]["points"][0]["config"]
    title = f"flat {config['fading']}, {config['split']}, {config['n_pairs']} pairs"
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for entry in entries:
        esno = [v["esno_db"] for v in entry["vs_esno"]]
        label = f"$l_s$ = {entry['segment_length']}"
        axes[0].plot(esno, [v["relevance_loss"] for v in entry["vs_esno"]], marker="o", label=label)
        axes[1].plot(esno, [v["answer_match_rate"] for v in entry["vs_esno"]], marker="o", label=label)
    for axis, ylabel in zip(axes, ("relevance loss (eq. 11)", "answer match rate")):
        axis.set_xlabel("Es/N0 [dB]")
        axis.set_ylabel(ylabel)
        axis.set_title(title, fontsize=9)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_fig6(entries, curve, esno_db, path):
    labels = [f"UO-ISC\n$l_s$={e['segment_length']}" for e in entries] + [system.replace("@", "\n@")
                                                                          for system, _, _ in curve]
    symbols = [e["channel_symbols_per_image"] for e in entries] + [s for _, s, _ in curve]
    amrs = [next(v["answer_match_rate"] for v in e["vs_esno"] if v["esno_db"] == esno_db) for e in entries] + [
        a for _, _, a in curve]
    colours = ["tab:blue"] * len(entries) + ["tab:grey"] * len(curve)
    fig, axis = plt.subplots(figsize=(8.4, 3.6))
    bars = axis.bar(range(len(labels)), symbols, color=colours)
    for bar, amr in zip(bars, amrs):
        axis.annotate(f"AMR {amr:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=7)
    axis.set_xticks(range(len(labels)), labels, fontsize=7)
    axis.set_ylabel("channel symbols per image")
    axis.set_title(f"LDPC n1800_k902 + 8-PSK burst; AMR at {esno_db:g} dB flat Rayleigh, test_zeroshot",
                   fontsize=9)
    axis.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", default=str(HERE / "results.json"), help="segment sweep results.json")
    parser.add_argument("--jpeg2000", default=str(HERE.parent / "sweep" / "results.json"),
                        help="results.json with the JPEG2000 budget points")
    parser.add_argument("--reuse", nargs=2, action="append", default=[], metavar=("RESULTS_JSON", "SYSTEM"),
                        help="also take SYSTEM's points from another sweep of the same protocol "
                             "(e.g. the l_s = 8 bundle from results/sweep)")
    parser.add_argument("--out", default=str(HERE), help="output folder")
    args = parser.parse_args(argv)
    results, jpeg_results = load_json(args.sweep), load_json(args.jpeg2000)
    points = [p for p in load_points(args.sweep) if not is_jpeg2000(p)]
    jpeg_points = [p for p in load_points(args.sweep) + load_points(args.jpeg2000) if is_jpeg2000(p)]
    for path, system in args.reuse:
        reused = load_points(path, {system})
        if not reused:
            raise ValueError(f"{path} has no points of system {system!r}")
        points += reused
    check_same_protocol(points)
    jpeg_points = [p for p in jpeg_points if protocol(p) == protocol(points[0])]
    entries = per_segment_length(points)
    curve = jpeg2000_curve(jpeg_points, points[0], COMPARISON_ESNO_DB)
    if not curve:
        raise ValueError(f"{args.jpeg2000} has no JPEG2000 point at {COMPARISON_ESNO_DB} dB with the protocol "
                         f"{protocol(points[0])}")
    for entry in entries:
        entry["jpeg2000"] = jpeg2000_comparison(entry, curve, COMPARISON_ESNO_DB)
        entry["jpeg2000_same_symbols"] = same_symbols_jpeg2000(entry, jpeg_points)
    out = pathlib.Path(args.out)
    plot_fig5(entries, out / "fig5_relevance_amr_vs_esno.png")
    plot_fig6(entries, curve, COMPARISON_ESNO_DB, out / "fig6_symbols_per_image.png")
    summary = {"schema": "uoisc-segment-sweep-summary/1", "sweep_commit": results["commit"],
               "sweep_command": results["command"],
               "reused": [{"results": path, "system": system, "commit": load_json(path)["commit"],
                           "command": load_json(path)["command"]} for path, system in args.reuse],
               "jpeg2000_source": {
                   "commit": jpeg_results["commit"], "command": jpeg_results["command"],
                   "curve_at_esno_db": COMPARISON_ESNO_DB,
                   "curve": [{"system": s, "channel_symbols_per_image": n, "answer_match_rate": a}
                             for s, n, a in curve]},
               "segment_lengths": [{k: v for k, v in e.items() if k != "points"} for e in entries]}
    summary["summary_command"] = "python results/segment-sweep/summarize.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    with open(out / "summary.json", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
