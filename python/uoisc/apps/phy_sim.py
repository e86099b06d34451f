#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""uoisc-phy-sim: BER/FER/throughput of the PHY over a list of Es/N0 values.

Sends N random PDUs through ``phy_tx -> channel -> phy_rx`` (one flowgraph per
point) for every (fading, Es/N0) pair and writes ``<out>/phy_sim.json`` and
``<out>/phy_sim.png``: BER before decoding (with uncoded Gray 8-PSK theory)
and after decoding, frame error rate, CRC-flag accuracy, SNR-estimate error
and info-bit throughput.

Example::

    uoisc-phy-sim -n 100 -e 0 5 10 20 -f awgn rayleigh -o out/phy_sim
    python -m gnuradio.uoisc.apps.phy_sim --help
"""

import argparse
import json
import logging
import math
import os
import platform
import sys
import time

from gnuradio import gr

from gnuradio.uoisc.phy import codes, link_sim, pilot_estimator, pilots, sync, theory

logger = logging.getLogger(__name__)

THEORY = {"awgn": theory.ber_8psk_awgn, "rayleigh": theory.ber_8psk_rayleigh}
#: GNU Radio log levels a user may pick (Debian's config sets "debug": very chatty).
GR_LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "critical", "off")


def add_log_level_argument(parser):
    """--log-level: GNU Radio's default log level for the blocks of the flowgraph."""
    parser.add_argument("--log-level", choices=GR_LOG_LEVELS, default="info",
                        help="GNU Radio log level of the blocks (overrides the system config)")


def set_gr_log_level(level):
    """Set GNU Radio's default log level; call it before building the flowgraph (block loggers
    take the default level when they are created)."""
    if level not in GR_LOG_LEVELS:
        raise ValueError(f"log level {level!r} not in {GR_LOG_LEVELS}")
    gr.logging().set_default_level(getattr(gr.log_levels, level))


def build_parser():
    """The argument parser (also used by the demo for its shared options)."""
    parser = argparse.ArgumentParser(
        prog="uoisc-phy-sim", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    traffic = parser.add_argument_group("traffic")
    traffic.add_argument("-n", "--n-frames", type=int, default=50,
                         help="random PDUs per (fading, Es/N0) point")
    traffic.add_argument("-b", "--payload-bytes", type=int, default=256, help="bytes per PDU")
    traffic.add_argument("-s", "--seed", type=int, default=0, help="seed of payloads and channel")
    channel = parser.add_argument_group("channel")
    channel.add_argument("-e", "--esno-db", type=float, nargs="+", default=[0.0, 5.0, 10.0, 20.0],
                         help="Es/N0 values in dB")
    channel.add_argument("-f", "--fading", nargs="+", choices=link_sim.FADINGS,
                         default=list(link_sim.FADINGS), help="channel models")
    channel.add_argument("-d", "--doppler", type=float, default=0.0,
                         help="normalised Doppler of the Rayleigh channel (0 = block fading)")
    receiver = parser.add_argument_group("receiver")
    receiver.add_argument("-c", "--code", choices=codes.list_codes(), default=codes.DEFAULT_CODE,
                          help="LDPC code")
    receiver.add_argument("-t", "--threading", choices=link_sim.THREADINGS, default="capillary",
                          help="LDPC decoder bank")
    receiver.add_argument("-j", "--n-decoders", type=int, default=2,
                          help="decoder instances in the bank")
    receiver.add_argument("-i", "--max-iter", type=int, default=50, help="LDPC iteration limit")
    receiver.add_argument("-P", "--pilot-interval", type=int, default=pilots.DEFAULT_INTERVAL,
                          help="data symbols between pilot blocks (0 with --pilot-len 0: no pilots)")
    receiver.add_argument("-L", "--pilot-len", type=int, default=pilots.DEFAULT_LENGTH,
                          help="known symbols per pilot block")
    receiver.add_argument("--pilot-doppler", type=pilot_estimator.parse_doppler, default=None,
                          help="design fD*Ts of the pilot filter, or 'auto' (estimated per burst); "
                               "default: auto, or 1e-2 with --air")
    receiver.add_argument("--sync-threshold", type=float, default=sync.DEFAULT_THRESHOLD,
                          help="preamble detection threshold on the normalised correlation (0..1): lower "
                               "finds bursts in deeper fades, and more noise to check headers on")
    receiver.add_argument("--no-pre-ber", action="store_true",
                          help="skip the coded-bit/LLR taps (pre-decoding BER)")
    air_path = parser.add_argument_group("air path (RRC modem through channels.channel_model)")
    air_path.add_argument("-a", "--air", action="store_true",
                          help="insert the air modem and a channel_model (AWGN only)")
    air_path.add_argument("--frequency-offset", type=float, default=0.002,
                          help="carrier offset, cycles/sample")
    air_path.add_argument("--epsilon", type=float, default=1.0001, help="sampling-clock ratio")
    output = parser.add_argument_group("output")
    output.add_argument("-o", "--out", default="out/phy_sim", help="output folder")
    output.add_argument("--timeout", type=float, default=120.0, help="seconds per point at most")
    output.add_argument("-v", "--verbose", action="store_true", help="log progress")
    add_log_level_argument(output)
    return parser


def check_args(parser, args):
    """Cross-argument checks (argparse checks each flag alone)."""
    if args.n_frames < 1:
        parser.error(f"--n-frames must be >= 1, got {args.n_frames}")
    if args.air and args.fading != ["awgn"]:
        parser.error("--air simulates the radio with channel_model: use it with -f awgn only")
    if args.threading == "none" and args.n_decoders != 1:
        parser.error("--threading none runs one decoder: drop --n-decoders or set it to 1")
    if args.n_decoders < 1 or args.max_iter < 1:
        parser.error("--n-decoders and --max-iter must be >= 1")
    if not 0 < args.sync_threshold < 1:
        parser.error(f"--sync-threshold must be in (0, 1), got {args.sync_threshold}")
    try:
        pilots.check_pilot_params(args.pilot_interval, args.pilot_len)
    except ValueError as err:
        parser.error(f"--pilot-interval/--pilot-len: {err}")


def point_configs(args):
    """One LinkConfig per (fading, Es/N0) pair, in plotting order."""
    return [
        link_sim.LinkConfig(
            esno_db=esno, fading=fading, n_frames=args.n_frames,
            payload_bytes=args.payload_bytes, code=args.code, doppler=args.doppler,
            seed=args.seed, threading=args.threading, n_decoders=args.n_decoders,
            max_iter=args.max_iter, pilot_interval=args.pilot_interval, pilot_len=args.pilot_len,
            pilot_doppler=args.pilot_doppler, sync_threshold=args.sync_threshold,
            measure_pre_ber=not args.no_pre_ber, air=args.air,
            frequency_offset=args.frequency_offset, epsilon=args.epsilon,
            timeout_s=args.timeout)
        for fading in args.fading for esno in args.esno_db
    ]


def machine_info():
    """Where the figures were measured."""
    return {"node": platform.node(), "machine": platform.machine(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "gnuradio": gr.version()}


def uncoded_theory_ber(config):
    """BER of uncoded Gray 8-PSK with perfect CSI at the config's Es/N0, after the receiver's
    maximum-ratio combining of a repeated code's copies (+10 log10 r dB; exact for AWGN and
    block fading, where every copy meets the same gain)."""
    repeat = codes.get_code(config.code).repeat
    return float(THEORY[config.fading](config.esno_db + 10 * math.log10(repeat)))


def run_points(configs, log=logger.info):
    """Run every point; add the uncoded theory BER to each result."""
    results = []
    for config in configs:
        result = link_sim.run_link(config)
        result["ber_uncoded_theory"] = uncoded_theory_ber(config)
        log(format_point(result))
        results.append(result)
    return results


def format_point(result):
    """One readable line per point."""
    config = result["config"]

    def fmt(value, spec):
        return "n/a" if value is None else format(value, spec)

    snr = result.get("snr_estimate", {}).get("mean_error_db")
    return (f"{config['fading']:>8s} {config['esno_db']:5.1f} dB: "
            f"delivered {result['frames_delivered']}/{result['frames_sent']}, "
            f"FER {fmt(result['fer'], '.3f')}, "
            f"BER pre {fmt(result['ber_pre_decoding'], '.2e')} "
            f"(theory {result['ber_uncoded_theory']:.2e}), "
            f"post {fmt(result['ber_post_decoding'], '.2e')}, "
            f"CRC-flag acc. {fmt(result['crc_flag_accuracy'], '.3f')}, "
            f"SNR est. err {fmt(snr, '+.2f')} dB, "
            f"{fmt(result.get('info_throughput_bps'), '.0f')} info bit/s")


def plot_results(results, path):
    """BER (pre/post/theory), FER and throughput vs Es/N0, one curve per fading."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for fading in sorted({r["config"]["fading"] for r in results}):
        points = sorted((r for r in results if r["config"]["fading"] == fading),
                        key=lambda r: r["config"]["esno_db"])
        esno = [r["config"]["esno_db"] for r in points]

        def series(key):
            # Zero error rates cannot be drawn on a log axis: leave them out.
            return [r[key] if r[key] else float("nan") for r in points]

        axes[0].semilogy(esno, [r["ber_uncoded_theory"] for r in points], "x--",
                         label=f"{fading} uncoded theory")
        axes[0].semilogy(esno, series("ber_pre_decoding"), "o-", label=f"{fading} before LDPC")
        axes[0].semilogy(esno, series("ber_post_decoding"), "s-", label=f"{fading} after LDPC")
        axes[1].semilogy(esno, series("fer"), "o-", label=fading)
        axes[2].plot(esno, [(r.get("info_throughput_bps") or 0) / 1e3 for r in points], "o-",
                     label=fading)
    titles = ("bit error rate", "frame error rate", "info throughput (kbit/s)")
    for ax, title in zip(axes, titles):
        ax.set_xlabel("Es/N0 (dB)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(results, out_dir, name, argv, seed):
    """Write ``<name>.json`` and ``<name>.png`` in out_dir; return their paths."""
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, f"{name}.json")
    png_path = os.path.join(out_dir, f"{name}.png")
    report = {"command": " ".join(["uoisc-phy-sim"] + list(argv)),
              "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": machine_info(), "seed": seed, "points": results}
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    plot_results(results, png_path)
    return json_path, png_path


def main(argv=None):
    """Entry point of ``uoisc-phy-sim``; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    set_gr_log_level(args.log_level)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(message)s")
    results = run_points(point_configs(args), log=print)
    json_path, png_path = write_report(results, args.out, "phy_sim", argv, args.seed)
    print(f"wrote {json_path} and {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
