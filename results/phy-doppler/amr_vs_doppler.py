#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""AMR, the AMR(0 dB) / AMR(20 dB) ratio, lost images and codeword failures per Doppler, from the
uoisc-eval runs results/rayleigh-doppler-*/results.json (and the block-fading reference run
results/rayleigh-zeroshot-n200, made with the PHY before issue 6).

Run: python results/phy-doppler/amr_vs_doppler.py
"""

import json
import os

RESULTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = [("rayleigh-zeroshot-n200", "block fading, PHY before issue 6 (200 pairs)"),
        ("rayleigh-doppler-0", "block fading (fD·Ts = 0)"),
        ("rayleigh-doppler-0.002", "fD·Ts = 2e-3"),
        ("rayleigh-doppler-0.01", "fD·Ts = 1e-2")]
ESNO = (0.0, 5.0, 10.0, 15.0, 20.0)


def points(run):
    path = os.path.join(RESULTS, run, "results.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return {(p["config"]["system"], p["config"]["esno_db"]): p for p in json.load(f)["points"]}


def main():
    for system in ("uoisc", "jpeg2000"):
        print(f"\n**{system}**: AMR at 0 / 5 / 10 / 15 / 20 dB, AMR(0)/AMR(20), images lost, codeword failures\n")
        print("| channel | " + " | ".join(f"{e:g} dB" for e in ESNO) + " | AMR(0)/AMR(20) | lost (of n) | cw failures |")
        print("|---|" + "---:|" * (len(ESNO) + 3))
        for run, label in RUNS:
            table = points(run)
            if table is None or (system, 0.0) not in table:
                continue
            row = [table[(system, e)] for e in ESNO]
            amr = [p["metrics"]["answer_match_rate"] for p in row]
            lost = " / ".join(str(p["metrics"]["n_lost"]) for p in row)
            failures = " / ".join(f"{p['link']['codeword_failure_rate']:.2f}" for p in row)
            print(f"| {label} | " + " | ".join(f"{a:.3f}" for a in amr)
                  + f" | {amr[0] / amr[-1]:.2f} | {lost} | {failures} |")


if __name__ == "__main__":
    main()
