#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The PHY loopback demo: random PDUs through phy_tx -> channel -> phy_rx.

A short run (tens of seconds) of one flowgraph at one Es/N0 and fading, with a
readable summary on stdout and ``report.json`` + ``report.png`` in ``--out``.
``scripts/demo.sh`` runs it (``python -m gnuradio.uoisc.apps.phy_demo``).
"""

import argparse
import json
import os
import sys

from gnuradio.uoisc.apps import phy_sim
from gnuradio.uoisc.phy import link_sim


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m gnuradio.uoisc.apps.phy_demo", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-e", "--esno-db", type=float, default=10.0, help="Es/N0 in dB")
    parser.add_argument("-f", "--fading", choices=link_sim.FADINGS, default="rayleigh",
                        help="channel model")
    parser.add_argument("-n", "--n-frames", type=int, default=200, help="random PDUs to send")
    parser.add_argument("-b", "--payload-bytes", type=int, default=512, help="bytes per PDU")
    parser.add_argument("-s", "--seed", type=int, default=0, help="seed of payloads and channel")
    parser.add_argument("-o", "--out", default="out/demo", help="output folder")
    phy_sim.add_log_level_argument(parser)
    return parser


def summary_lines(result):
    """The demo's human-readable summary."""
    config = result["config"]
    snr = result.get("snr_estimate", {})

    def fmt(value, spec):
        return "n/a" if value is None else format(value, spec)

    return [
        f"PHY loopback: {config['n_frames']} PDUs of {config['payload_bytes']} bytes, "
        f"code {config['code']}, {config['fading']} channel at Es/N0 = {config['esno_db']:.1f} dB",
        f"  delivered            {result['frames_delivered']}/{result['frames_sent']} "
        f"(intact {result['frames_delivered'] - result['frames_wrong']}, "
        f"FER {fmt(result['fer'], '.3f')})",
        f"  BER before LDPC      {fmt(result['ber_pre_decoding'], '.2e')} "
        f"(uncoded 8-PSK theory {result['ber_uncoded_theory']:.2e})",
        f"  BER after LDPC       {fmt(result['ber_post_decoding'], '.2e')}",
        f"  CRC-flag accuracy    {fmt(result['crc_flag_accuracy'], '.4f')} "
        f"(undetected errors: {result['crc_flags']['flagged_ok_with_errors']})",
        f"  SNR estimate error   {fmt(snr.get('mean_error_db'), '+.2f')} dB (mean, linear domain)",
        f"  info throughput      {fmt(result.get('info_throughput_bps'), ',.0f')} bit/s "
        f"in {result['elapsed_s']:.1f} s",
    ]


def main(argv=None):
    """Run the demo; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n_frames < 1:
        parser.error(f"--n-frames must be >= 1, got {args.n_frames}")
    phy_sim.set_gr_log_level(args.log_level)
    config = link_sim.LinkConfig(esno_db=args.esno_db, fading=args.fading, n_frames=args.n_frames,
                                 payload_bytes=args.payload_bytes, seed=args.seed)
    (result,) = phy_sim.run_points([config], log=lambda line: None)
    os.makedirs(args.out, exist_ok=True)
    phy_sim.plot_results([result], os.path.join(args.out, "report.png"))
    report = {"command": " ".join(["phy_demo"] + argv), "machine": phy_sim.machine_info(),
              "seed": args.seed, "result": result}
    with open(os.path.join(args.out, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print("\n".join(summary_lines(result)))
    print(f"  report               {os.path.join(args.out, 'report.json')} (+ report.png)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
