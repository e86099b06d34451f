"""Markdown tables of this folder's README from ``uoisc-eval`` point files.

Prints AMR per system, decoder and Es/N0, the paired differences (mean ± standard error
over the same pairs and fades) and the link metrics of every point. Usage::

    python results/decoder-finetune/paired_tables.py results/decoder-finetune/rayleigh/points
"""

import argparse
import glob
import json
import os

import numpy as np

#: system -> (shipped system name, fine-tuned bundle), as named in the point configs.
SYSTEMS = {
    "uoisc": ("uoisc", "runs/bundles/uoisc-tiny-uoisc-decoder-only"),
    "no-text": ("no-text", "runs/bundles/uoisc-tiny-no-text-decoder-only"),
    "no-vlm": ("no-vlm", "runs/bundles/uoisc-tiny-no-vlm-decoder-only"),
}
DECODERS = ("shipped", "fine-tuned")
ESNO_DB = (0.0, 5.0, 10.0, 15.0, 20.0)


def load_points(points_dir):
    """Point files of ``points_dir`` keyed by ``(system, esno_db)``.

    Raises:
        ValueError: ``points_dir`` holds no point file.
    """
    points = {}
    for path in glob.glob(os.path.join(points_dir, "*.json")):
        with open(path, encoding="utf-8") as f:
            point = json.load(f)
        points[(point["config"]["system"], point["config"]["esno_db"])] = point
    if not points:
        raise ValueError(f"points_dir={points_dir!r} holds no point file")
    return points


def matches(points, system, esno_db):
    """Per-pair answer matches (1/0, lost pairs count as 0) or None when not measured."""
    point = points.get((system, esno_db))
    return None if point is None else np.array([pair["match"] for pair in point["pairs"]], float)


def paired_difference(points, system_a, system_b, esno_db):
    """``a − b`` as "mean ± SE" over the same pairs, or "—" when either point is missing."""
    a, b = matches(points, system_a, esno_db), matches(points, system_b, esno_db)
    if a is None or b is None:
        return "—"
    d = a - b
    return f"{d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f}"


def header(first_columns):
    snrs = " | ".join(f"{e:g} dB" for e in ESNO_DB)
    return [f"| {first_columns} | {snrs} |",
            "|" + "---|" * first_columns.count("|") + "---|" + "---:|" * len(ESNO_DB)]


def amr_table(points):
    rows = header("system | decoder")
    for name, systems in SYSTEMS.items():
        for label, system in zip(DECODERS, systems):
            cells = []
            for e in ESNO_DB:
                m = matches(points, system, e)
                cells.append("—" if m is None else f"{m.mean():.3f}")
            rows.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    return rows


def difference_table(points):
    rows = header("paired difference")
    for name, (shipped, tuned) in SYSTEMS.items():
        cells = [paired_difference(points, tuned, shipped, e) for e in ESNO_DB]
        rows.append(f"| {name}: fine-tuned − shipped | " + " | ".join(cells) + " |")
    for other in ("no-vlm", "no-text"):
        for i, label in enumerate(DECODERS):
            cells = [paired_difference(points, SYSTEMS["uoisc"][i], SYSTEMS[other][i], e) for e in ESNO_DB]
            rows.append(f"| uoisc − {other}, {label} | " + " | ".join(cells) + " |")
    return rows


def link_table(points):
    rows = ["| system | decoder | lost | codeword failure rate | PSNR received [dB] | relevance loss | commit |",
            "|---|---|---|---|---|---|---|"]
    for name, systems in SYSTEMS.items():
        for label, system in zip(DECODERS, systems):
            columns = [[] for _ in range(5)]
            for e in ESNO_DB:
                point = points.get((system, e))
                if point is None:
                    values = ["—"] * 5
                else:
                    metrics, link = point["metrics"], point["link"]
                    values = [str(metrics["n_lost"]), f"{link['codeword_failure_rate']:.3f}",
                              f"{metrics['psnr_db']:.1f}", f"{metrics['relevance_loss']:.3f}",
                              (point.get("commit") or "?")[:7]]
                for column, value in zip(columns, values):
                    column.append(value)
            rows.append(f"| {name} | {label} | " + " | ".join(" / ".join(c) for c in columns) + " |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("points_dir", help="a uoisc-eval output folder's points/")
    points = load_points(parser.parse_args().points_dir)
    for table in (amr_table(points), difference_table(points), link_table(points)):
        print("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
