"""Tables and summary.json of results/rate-choice from ``uoisc-eval`` point files.

Each row is one (system, code) configuration; every configuration is compared on the same
100 (scene, question) pairs and the same fade per burst (channel seed 0), so differences are
paired. The shipped UO-ISC rows come from a 200-pair run whose first 100 pairs are these.
Channel symbols per image are counted from each point's payload size and code with the
current ``semantic_link.burst_symbols`` (preamble, header, payload pilots, data, guard).
Usage::

    python results/rate-choice/summarize.py        # prints the tables, writes summary.json
"""

import argparse
import functools
import glob
import json
import os

import numpy as np

from gnuradio.uoisc.apps.eval_report import symbols_ratio
from gnuradio.uoisc.apps.semantic_link import burst_symbols

HERE = os.path.dirname(os.path.abspath(__file__))
ESNO_DB = (0.0, 5.0, 10.0, 15.0, 20.0)
N_PAIRS = 100
#: label -> (folder holding points/, system name in the point configs)
ROWS = {
    "UO-ISC l_s=8 (shipped), n1800_k902": ("../rayleigh-zeroshot-n200-v3", "uoisc"),
    "UO-ISC l_s=32, n1800_k902": ("x1", "runs/bundles/uoisc-tiny-ls32"),
    "UO-ISC l_s=32, n1800_k902x4": ("x4", "runs/bundles/uoisc-tiny-ls32"),
    "UO-ISC l_s=32 decoder fine-tuned, n1800_k902": ("x1", "runs/bundles/uoisc-tiny-ls32-decoder-only"),
    "UO-ISC l_s=32 decoder fine-tuned, n1800_k902x4": ("x4", "runs/bundles/uoisc-tiny-ls32-decoder-only"),
    "(a) no text alignment l_s=32 decoder fine-tuned, n1800_k902x4": ("x4", "runs/bundles/uoisc-tiny-no-text-ls32-decoder-only"),
    "(b) no pretrained VLM l_s=32 decoder fine-tuned, n1800_k902x4": ("x4", "runs/bundles/uoisc-tiny-no-vlm-ls32-decoder-only"),
    "JPEG2000 1612 B (the shipped frame's symbols), n1800_k902": ("../rayleigh-zeroshot-n200-v3", "jpeg2000"),
    "JPEG2000 424 B, n1800_k902": ("x1", "jpeg2000@424"),
    "JPEG2000 424 B, n1800_k902x4": ("x4", "jpeg2000@424"),
}
#: Rows every other row is compared with, pair by pair: the shipped configuration, and the robust one.
REFERENCES = ("UO-ISC l_s=8 (shipped), n1800_k902", "UO-ISC l_s=32 decoder fine-tuned, n1800_k902x4")


@functools.lru_cache(maxsize=None)
def folder_points(folder):
    """Every Rayleigh point file under ``folder``/points, read once, with its channel symbols
    recounted (points computed before 006b6ea left the payload pilots out of them)."""
    points = []
    for path in sorted(glob.glob(os.path.join(HERE, folder, "points", "*.json"))):
        with open(path, encoding="utf-8") as f:
            point = json.load(f)
        if point["config"]["fading"] != "rayleigh":
            continue
        point["link"]["channel_symbols_per_image"] = burst_symbols(point["link"]["payload_bytes"],
                                                                  point["config"]["code"])
        points.append(point)
    return points


def load_point(folder, system, esno_db):
    """The point of (system, Es/N0) under ``folder``, or None if not measured."""
    for point in folder_points(folder):
        if point["config"]["system"] == system and point["config"]["esno_db"] == esno_db:
            return point
    return None


def first_pairs(point):
    """The first N_PAIRS pair records (the 200-pair run's prefix is the 100-pair run)."""
    pairs = point["pairs"][:N_PAIRS]
    if len(pairs) < N_PAIRS:
        raise ValueError(f"point {point['key']} has {len(pairs)} pairs, fewer than {N_PAIRS}")
    return pairs


def collect():
    """{label: {"symbols", "code", "amr": {esno: value}, "lost": {...}, "match": {esno: array}}}."""
    table = {}
    for label, (folder, system) in ROWS.items():
        row = {"folder": folder, "system": system, "amr": {}, "lost": {}, "match": {}}
        for esno in ESNO_DB:
            point = load_point(folder, system, esno)
            if point is None:
                continue
            pairs = first_pairs(point)
            match = np.array([p["match"] for p in pairs], float)
            row["match"][esno] = match
            row["amr"][esno] = float(match.mean())
            row["lost"][esno] = int(sum(p["lost"] for p in pairs))
            row["symbols"] = point["link"]["channel_symbols_per_image"]
            row["code"] = point["config"]["code"]
            row["commit"] = point.get("commit")
        table[label] = row
    return table


def same_code_symbols_ratio(folder, reference="runs/bundles/uoisc-tiny-ls32-decoder-only"):
    """``eval_report.symbols_ratio`` within one folder (one code): the JPEG2000 budgets sent with
    that code, against the fine-tuned l_s = 32 UO-ISC at 10 dB (symbols recounted)."""
    return symbols_ratio(folder_points(folder), reference=reference)


def paired(a, b):
    """(mean, standard error) of a − b over the same pairs."""
    d = a - b
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def markdown(table):
    lines = ["| configuration | symbols / image | " + " | ".join(f"{e:g} dB" for e in ESNO_DB)
             + " | AMR(0)/AMR(20) |", "|---|---:|" + "---:|" * (len(ESNO_DB) + 1)]
    for label, row in table.items():
        amr = row["amr"]
        cells = [f"{amr[e]:.2f}" if e in amr else "—" for e in ESNO_DB]
        ratio = f"{amr[0.0] / amr[20.0]:.2f}" if 0.0 in amr and 20.0 in amr else "—"
        lines.append(f"| {label} | {row.get('symbols', '—')} | " + " | ".join(cells) + f" | {ratio} |")
    for name in REFERENCES:
        lines += ["", f"Paired difference to `{name}` (mean ± SE over the same {N_PAIRS} pairs and fades):", "",
                  "| configuration | " + " | ".join(f"{e:g} dB" for e in ESNO_DB) + " |",
                  "|---|" + "---:|" * len(ESNO_DB)]
        reference = table[name]["match"]
        for label, row in table.items():
            if label == name:
                continue
            cells = []
            for e in ESNO_DB:
                if e in row["match"] and e in reference:
                    mean, se = paired(row["match"][e], reference[e])
                    cells.append(f"{mean:+.2f} ± {se:.2f}")
                else:
                    cells.append("—")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Images lost (burst not detected or header failed), of 100:", "",
              "| configuration | " + " | ".join(f"{e:g} dB" for e in ESNO_DB) + " |",
              "|---|" + "---:|" * len(ESNO_DB)]
    for label, row in table.items():
        lines.append(f"| {label} | " + " | ".join(str(row["lost"].get(e, "—")) for e in ESNO_DB) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default=os.path.join(HERE, "summary.json"))
    args = parser.parse_args(argv)
    table = collect()
    print(markdown(table))
    ratios = {folder: same_code_symbols_ratio(folder) for folder in ("x1", "x4")}
    for folder, ratio in ratios.items():
        if ratio is not None:
            print(f"\nJPEG2000 symbols for the fine-tuned l_s=32 UO-ISC's AMR at 10 dB, both on {folder}: "
                  f"{ratio['jpeg2000_symbols']:.0f} / {ratio['reference_symbols']} = {ratio['ratio']:.2f} "
                  f"({ratio['bound']})")
    summary = {label: {k: v for k, v in row.items() if k != "match"} for label, row in table.items()}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"n_pairs": N_PAIRS, "esno_db": ESNO_DB, "rows": summary,
                   "symbols_ratio": {folder: ratio for folder, ratio in ratios.items()}}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
