#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Benchmark: info bits/s through the whole PHY flowgraph, decoder bank vs one decoder.

For every (fading, Es/N0) point the same seeded PDUs go through
``phy_tx -> channel -> phy_rx`` twice in the same run: once with phy_rx's LDPC
decoder bank (``--threading``, ``--n-decoders``) and once with a single decoder
instance (threading "none"). Both use the same iteration limit; gr-fec's LDPC
decoder stops early once the syndrome is satisfied. The JSON holds the command,
machine, seed, flags and the full table, with the bank/single throughput ratio.

    source .venv/uoisc-env.sh
    python bench/phy.py                      # full table, ~5 minutes on 2 cores
    python bench/phy.py --quick              # smoke run, seconds
"""

import argparse
import json
import os
import sys
import time

from gnuradio.uoisc.apps import phy_sim
from gnuradio.uoisc.phy import link_sim


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-e", "--esno-db", type=float, nargs="+", default=[0.0, 5.0, 10.0, 20.0],
                        help="Es/N0 values in dB")
    parser.add_argument("-f", "--fading", nargs="+", choices=link_sim.FADINGS,
                        default=list(link_sim.FADINGS), help="channel models")
    parser.add_argument("-n", "--n-frames", type=int, default=40, help="PDUs per measurement")
    parser.add_argument("-b", "--payload-bytes", type=int, default=1080,
                        help="bytes per PDU (1080 = 10 codewords of n1800_k902)")
    parser.add_argument("-t", "--threading", choices=("capillary", "ordinary"), default="capillary",
                        help="decoder bank of the measured receiver")
    parser.add_argument("-j", "--n-decoders", type=int, default=2, help="decoders in the bank")
    parser.add_argument("-i", "--max-iter", type=int, default=25,
                        help="LDPC iteration limit of the bank (early exit on a valid codeword)")
    parser.add_argument("--single-max-iter", type=int, default=50,
                        help="iteration limit of the single-decoder reference (50: the stock "
                             "configuration the project started from)")
    parser.add_argument("-s", "--seed", type=int, default=0, help="seed of payloads and channel")
    parser.add_argument("-o", "--out", default="bench/results/phy.json", help="output JSON")
    phy_sim.add_log_level_argument(parser)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 4 PDUs, 10 and 20 dB AWGN only")
    return parser


def measure(config):
    """One link point; returns the fields the table keeps."""
    result = link_sim.run_link(config)
    return {key: result.get(key) for key in (
        "frames_sent", "frames_delivered", "fer", "ber_post_decoding", "elapsed_s",
        "info_throughput_bps", "delivered_info_bps")}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    phy_sim.set_gr_log_level(args.log_level)
    if args.quick:
        args.esno_db, args.fading, args.n_frames = [10.0, 20.0], ["awgn"], 4
    if args.n_decoders < 2:
        parser.error("--n-decoders must be >= 2: the bank is compared with a single decoder")
    table = []
    for fading in args.fading:
        for esno in args.esno_db:
            common = dict(esno_db=esno, fading=fading, n_frames=args.n_frames,
                          payload_bytes=args.payload_bytes, seed=args.seed, measure_pre_ber=False)
            bank = measure(link_sim.LinkConfig(threading=args.threading, n_decoders=args.n_decoders,
                                               max_iter=args.max_iter, **common))
            single = measure(link_sim.LinkConfig(threading="none", n_decoders=1,
                                                 max_iter=args.single_max_iter, **common))
            ratio = (bank["delivered_info_bps"] / single["delivered_info_bps"]
                     if bank["delivered_info_bps"] and single["delivered_info_bps"] else None)
            row = {"fading": fading, "esno_db": esno, "bank": bank, "single": single,
                   "bank_over_single": ratio}
            table.append(row)
            print(f"{fading:>8s} {esno:5.1f} dB: bank {bank['info_throughput_bps'] or 0:12,.0f} "
                  f"single {single['info_throughput_bps'] or 0:12,.0f} info bit/s (correct); "
                  f"delivered ratio {ratio if ratio is None else round(ratio, 2)}", flush=True)
    report = {"command": " ".join(["python bench/phy.py"] + argv),
              "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": phy_sim.machine_info(), "seed": args.seed,
              "flags": {k: v for k, v in vars(args).items() if k != "out"},
              "table": table}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
