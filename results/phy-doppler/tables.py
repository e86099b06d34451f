#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Markdown tables of results/phy-doppler from the uoisc-phy-sim JSON files next to this script.

Run: python results/phy-doppler/tables.py > results/phy-doppler/tables.md
"""

import json
import os

from gnuradio.uoisc.phy import capacity, codes

HERE = os.path.dirname(os.path.abspath(__file__))
DOPPLERS = ("0", "0.002", "0.01")
#: Es/N0 at which the code's FER is ~0.5 on a static channel (AWGN table of docs/phy.md:
#: FER 0.55 at 5 dB without pilots, 0 at 7.5 dB): the outage threshold of block fading.
CODE_THRESHOLD_DB = 5.0


def load(folder):
    path = os.path.join(HERE, folder, "phy_sim.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return {p["config"]["esno_db"]: p for p in json.load(f)["points"]}


def fmt(value, spec):
    return "–" if value is None else format(value, spec)


def codeword_failure_rate(point):
    """Failed codewords (CRC flag bad) of the delivered frames: what the semantic decoder erases."""
    flags = point.get("crc_flags") or {}
    total = sum(flags.values())
    bad = flags.get("flagged_bad_with_errors", 0) + flags.get("flagged_bad_but_clean", 0)
    return bad / total if total else None


def header_loss(point):
    """Frames lost before decoding (burst not found or header CRC failed), of those sent."""
    return f"{point['frames_lost']}/{point['frames_sent']}"


def main():
    code = codes.get_code(codes.DEFAULT_CODE)
    rate_bits = 3 * code.k / code.n
    ergodic = capacity.threshold_db(rate_bits, "rayleigh")
    awgn = capacity.threshold_db(rate_bits, "awgn")
    print(f"BICM capacity thresholds for {rate_bits:.3f} bit/symbol (rate {code.k}/{code.n}, Gray 8-PSK): "
          f"AWGN {awgn:.2f} dB, ergodic Rayleigh {ergodic:.2f} dB.\n")
    for doppler in DOPPLERS:
        after, before = load(f"auto-doppler-{doppler}"), load(f"before-8130e2b-doppler-{doppler}")
        if after is None:
            continue
        print(f"### fD·Ts = {doppler}{' (block fading per burst)' if doppler == '0' else ''}\n")
        print("| Es/N0 | FER | FER before | codeword failures | cw failures before | lost before decoding | "
              "lost, before | BER pre | BER pre before | theory (perfect CSI) | block outage | "
              "headers tracked / retimed | design fD·Ts (median) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for esno, p in sorted(after.items()):
            b = (before or {}).get(esno)
            stats = p.get("receiver_stats", {})
            design = (p.get("pilot_doppler_used") or {}).get("median")
            print(f"| {esno:g} dB | {fmt(p['fer'], '.2f')} | {fmt(b and b['fer'], '.2f')} | "
                  f"{fmt(codeword_failure_rate(p), '.3f')} | {fmt(b and codeword_failure_rate(b), '.3f')} | "
                  f"{header_loss(p)} | "
                  f"{header_loss(b) if b else '–'} | {fmt(p['ber_pre_decoding'], '.2e')} | "
                  f"{fmt(b and b['ber_pre_decoding'], '.2e')} | {p['ber_uncoded_theory']:.2e} | "
                  f"{capacity.block_outage(esno, CODE_THRESHOLD_DB):.2f} | "
                  f"{stats.get('header_tracked', '–')} / {stats.get('header_retimed', '–')} | {fmt(design, '.1e')} |")
        print()


if __name__ == "__main__":
    main()
