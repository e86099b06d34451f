#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Benchmark: speed of the semantic link, codec (onnxruntime vs torch eager), PHY and loopback.

Everything is measured in one run, so ratios between runtimes, stages and
models are taken under the same machine load:

1. codec: encoder and decoder time per call, per image and images/s at each
   ``--batch-sizes``, through ``uoisc_runtime.SemanticCodec`` (onnxruntime;
   the CPU provider, plus CUDA when onnxruntime lists it) and through the
   torch model (``UOISC.compress``/``decompress`` under ``torch.no_grad``,
   ``torch.set_num_threads(--threads)``). Both start from the same uint8
   scenes and query strings and end with the same outputs (indices; uint8
   images), so preprocessing and tokenising count on both sides;
2. PHY: ``link_sim.run_link`` with the bundle's codec frame as payload,
   AWGN 20 dB and Rayleigh 10 dB: seconds per image when all frames are
   posted at once (the PHY's processing rate), info bit/s, and the latency of
   one burst alone;
3. loopback: ``run_semantic_link`` (source -> encoder -> PHY -> decoder ->
   sink, AWGN 20 dB): images/s, and per-image latency from time stamps taken
   by two taps (the source's output and the decoder's output, keyed by seq);
4. split: encoder / PHY / decoder seconds per image (batch 1, one burst) and
   their fractions of the sum.

Bundles: the shipped ``models/uoisc-tiny-uoisc`` and a ViT-B/16-sized codec
with random initial weights, exported here with ``uoisc_train`` into
``--cache-dir`` (reused on the next run when its config and seed agree).

    source .venv/uoisc-env.sh
    python bench/codec_speed.py                    # full run, both bundles (~9 min on 2 loaded cores)
    python bench/codec_speed.py --quick            # tiny bundle only, seconds
"""

import argparse
import copy
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from uoisc_runtime.machine import cpu_model

REPO = Path(__file__).resolve().parent.parent
TINY_BUNDLE = "models/uoisc-tiny-uoisc"
VIT_CONFIG = "uoisc-vit-b16"
BUNDLE_NAMES = ("tiny", "vit-b16")
PARTS = ("codec", "phy", "loopback")
DEFAULT_OUT = "bench/results/codec_speed.json"
DEFAULT_CACHE = os.path.join(tempfile.gettempdir(), "uoisc-bench-cache")
CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"
#: PHY points of the brief, as --phy-points spells them: fading:Es/N0 in dB.
PHY_POINTS = ("awgn:20", "rayleigh:10")
LOOPBACK_ESNO_DB, LOOPBACK_FADING = 20.0, "awgn"
SCENE_SPLIT = "test_zeroshot"

logger = logging.getLogger("codec_speed")


# ---- where and what ----------------------------------------------------------------------------
def machine_info():
    """CPU, core counts, library versions and the load average (other jobs share the machine)."""
    import onnxruntime
    import torch
    from gnuradio import gr
    return {"node": platform.node(), "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
            "cores_allowed": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "numpy": np.__version__, "onnxruntime": onnxruntime.__version__,
            "onnxruntime_providers": onnxruntime.get_available_providers(),
            "torch": torch.__version__, "torch_cuda": torch.cuda.is_available(),
            "gnuradio": gr.version(), "load_average_at_start": list(os.getloadavg())}


def git_commit():
    """HEAD of the checkout, with ``+dirty`` when tracked files differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=False).stdout.strip()
    commit = git("rev-parse", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def bundle_facts(name, path, codec):
    """What the tables need to know about one bundle."""
    return {"name": name, "path": str(path), "model_id": codec.model_id,
            "image_size": codec.image_size, "indices_shape": list(codec.indices_shape),
            "bits_per_index": codec.bits_per_index, "n_indices": codec.n_indices,
            "payload_bytes": codec.payload_bytes, "needs_query": codec.needs_query}


# ---- the two models ----------------------------------------------------------------------------
def tiny_torch_model(bundle_path):
    """The torch twin of a shipped bundle and where its weights come from.

    The training checkpoint recorded in codec.json is used when it is on this
    machine (``runs/`` is not in git); otherwise the same architecture with
    fresh codec weights, which times the same but gives other indices.
    """
    from uoisc_train.codec import CodecConfig
    from uoisc_train.training import build_codec, load_codec
    spec = json.loads((Path(bundle_path) / "codec.json").read_text())
    checkpoint = REPO / spec["exported_by"].get("checkpoint", "")
    if checkpoint.is_file():
        model, _ = load_codec(checkpoint)
        return model, f"checkpoint {spec['exported_by']['checkpoint']}"
    model = build_codec(CodecConfig.from_dict(spec["codec_config"])).eval()
    return model, "codec_config of codec.json, fresh codec weights (checkpoint not on this machine)"


def random_vit_model(seed):
    """The ViT-B/16-sized codec of ``uoisc-vit-b16`` with random weights (no download)."""
    import torch
    from uoisc_train.train import resolve_configs
    from uoisc_train.training import build_codec
    config, _ = resolve_configs(VIT_CONFIG, "uoisc", ["pretrained=null"])
    torch.manual_seed(seed)
    return build_codec(config).eval()


def vit_bundle(model, cache_dir, seed, parity_images):
    """Export ``model`` into the cache, or reuse the cached bundle of the same config and seed.

    Returns:
        (bundle folder, seconds the export took or None when reused)
    """
    from uoisc_train.export import export_bundle
    out = Path(cache_dir) / f"{VIT_CONFIG}-random-seed{seed}"
    spec_path = out / "codec.json"
    if spec_path.is_file():
        spec = json.loads(spec_path.read_text())
        if (spec.get("codec_config") == model.config.to_dict()
                and spec.get("exported_by", {}).get("init_seed") == seed):
            logger.info("reusing the exported ViT-B/16-sized bundle in %s", out)
            return out, None
        shutil.rmtree(out)
    logger.info("exporting the ViT-B/16-sized codec (random init) to %s", out)
    start = time.perf_counter()
    export_bundle(model, out, f"{VIT_CONFIG}-random", provenance={"untrained": True, "init_seed": seed},
                  parity_images=parity_images)
    return out, time.perf_counter() - start


# ---- inputs ------------------------------------------------------------------------------------
def scenes(n, size, seed):
    """``n`` uint8 scenes of the zero-shot split and one question about each."""
    from uoisc_train.world import generate_scene, scene_seed
    drawn = [generate_scene(scene_seed(seed, i), size, SCENE_SPLIT) for i in range(n)]
    return [s.image for s in drawn], [s.qa[0].question for s in drawn]


# ---- timing ------------------------------------------------------------------------------------
def time_in_blocks(calls, repeats, warmup):
    """Wall times (s) of ``repeats`` calls of each of ``calls`` (name -> callable).

    Each backend runs in blocks of consecutive calls, in two rounds of
    opposite order (A B, then B A) that share the repeats, so a slow drift of
    the load from other jobs on the shared cores weighs on every backend
    alike. Calls are not interleaved one by one: onnxruntime's and OpenMP's
    worker threads spin for a while after each call and would steal the cores
    from the next backend (measured: torch 2x slower right after onnxruntime).
    Each block starts with one untimed call for the same reason, and the first
    with ``warmup`` more.
    """
    times = {name: [] for name in calls}
    first_half = (repeats + 1) // 2
    order = list(calls)
    for count, names in ((first_half, order), (repeats - first_half, order[::-1])):
        for name in names if count else []:
            for _ in range(1 + (warmup if not times[name] else 0)):
                calls[name]()
            for _ in range(count):
                start = time.perf_counter()
                calls[name]()
                times[name].append(time.perf_counter() - start)
    return times


def summary(times, scale=1.0):
    """Median and 90th percentile of ``times`` divided by ``scale``."""
    values = np.asarray(times, dtype=float) / scale
    return {"median": float(np.median(values)), "p90": float(np.percentile(values, 90))}


def timing_row(times, batch_size):
    return {"call_s": summary(times), "per_image_s": summary(times, batch_size),
            "images_per_s": batch_size / float(np.median(times)), "n_calls": len(times)}


class TorchCodec:
    """The torch side with the runtime's contract: uint8 images + strings -> indices -> uint8.

    Args:
        model: a ``UOISC`` in eval mode.
        device: torch device ("cpu" or "cuda").
    """

    def __init__(self, model, device):
        import torch
        self.torch = torch
        self.device = device
        # .to() moves a module in place: the CUDA twin must not take the CPU runner's model along.
        self.model = (model if device == "cpu" else copy.deepcopy(model).to(device)).eval()

    def encode_indices(self, images, queries):
        torch = self.torch
        with torch.no_grad():
            pixels = torch.from_numpy(np.stack(images)).to(self.device).permute(0, 3, 1, 2).float() / 255.0
            tokens = (self.model.backbone.tokenize(list(queries)).to(self.device, torch.int64)
                      if self.model.config.text_alignment else None)
            return self.model.compress(pixels, tokens).cpu().numpy()

    def decode_indices(self, indices):
        torch = self.torch
        with torch.no_grad():
            images = self.model.decompress(torch.from_numpy(indices).to(self.device))
            pixels = (images.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
            return pixels.permute(0, 2, 3, 1).cpu().numpy()


def codec_runners(bundle_path, torch_model, threads):
    """(runtime, device, object with encode_indices/decode_indices) for every backend here."""
    import onnxruntime
    import torch
    from uoisc_runtime import SemanticCodec
    providers = [CPU_PROVIDER] + ([CUDA_PROVIDER] if CUDA_PROVIDER in onnxruntime.get_available_providers()
                                  else [])
    for provider in providers:
        chain = [provider] if provider == CPU_PROVIDER else [provider, CPU_PROVIDER]
        yield "onnxruntime", provider, SemanticCodec.from_path(bundle_path, providers=chain,
                                                               intra_op_threads=threads)
    for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
        yield "torch", device, TorchCodec(torch_model, device)


def stage_call(runner, stage, images, queries, indices):
    """A no-argument call of ``runner``'s encoder (images, queries) or decoder (indices)."""
    if stage == "encoder":
        return lambda: runner.encode_indices(images, queries)
    return lambda: runner.decode_indices(indices)


def measure_codec(facts, torch_model, args):
    """Encoder and decoder timing rows of one bundle, plus torch/onnxruntime index agreement.

    Every backend decodes the same indices (onnxruntime CPU's), so the decoders do equal work.
    """
    name = facts["name"]
    images, queries = scenes(max(args.batch_sizes), facts["image_size"], args.seed)
    queries = queries if facts["needs_query"] else None
    runners = {(runtime, device): runner
               for runtime, device, runner in codec_runners(facts["path"], torch_model, args.threads)}
    indices = {key: runner.encode_indices(images, queries) for key, runner in runners.items()}
    sent = indices[("onnxruntime", CPU_PROVIDER)]
    rows = []
    for batch in args.batch_sizes:
        batch_images, batch_indices = images[:batch], sent[:batch]
        batch_queries = None if queries is None else queries[:batch]
        for stage in ("encoder", "decoder"):
            calls = {key: stage_call(runner, stage, batch_images, batch_queries, batch_indices)
                     for key, runner in runners.items()}
            times = time_in_blocks(calls, args.repeats, args.warmup)
            for (runtime, device), backend_times in times.items():
                row = {"bundle": name, "stage": stage, "runtime": runtime, "device": device,
                       "batch_size": batch, **timing_row(backend_times, batch),
                       "load_average_1min": os.getloadavg()[0]}
                rows.append(row)
                logger.info("%-8s %-7s %-11s %-20s batch %d: %8.2f ms/image, %7.1f images/s",
                            name, stage, runtime, device, batch, 1e3 * row["per_image_s"]["median"],
                            row["images_per_s"])
    agreement = float(np.mean(indices[("torch", "cpu")] == sent))
    return rows, agreement


def speed_ratios(rows):
    """onnxruntime speed-up over torch eager (torch median / onnxruntime median per image),
    for each bundle, stage, batch size and device pair."""
    ratios = []
    onnx_rows = [r for r in rows if r["runtime"] == "onnxruntime"]
    for ort_row in onnx_rows:
        torch_device = "cpu" if ort_row["device"] == CPU_PROVIDER else "cuda"
        match = [r for r in rows if r["runtime"] == "torch" and r["device"] == torch_device
                 and all(r[k] == ort_row[k] for k in ("bundle", "stage", "batch_size"))]
        if match:
            ratios.append({key: ort_row[key] for key in ("bundle", "stage", "batch_size")}
                          | {"onnxruntime_device": ort_row["device"], "torch_device": torch_device,
                             "onnxruntime_speedup_over_torch":
                                 match[0]["per_image_s"]["median"] / ort_row["per_image_s"]["median"]})
    return ratios


# ---- PHY ---------------------------------------------------------------------------------------
def measure_phy(name, payload_bytes, args):
    """Seconds per image, info bit/s and one-burst latency of the PHY at each of --phy-points."""
    from gnuradio.uoisc.phy import link_sim
    rows = []
    for fading, esno_db in args.phy_points:
        # A faded 15 kB burst runs every LDPC iteration on ~150 codewords: seconds on a loaded
        # machine, longer than link_sim's default 3 s wait for the next delivery.
        common = dict(esno_db=esno_db, fading=fading, payload_bytes=payload_bytes,
                      measure_pre_ber=False, settle_s=args.phy_settle_s)
        burst = link_sim.run_link(link_sim.LinkConfig(n_frames=args.phy_frames, seed=args.seed, **common))
        # Each lone burst sees its own channel draw (seed + repeat): with one seed a faded
        # burst would be lost every time. A lost burst has no latency.
        alone = [link_sim.run_link(link_sim.LinkConfig(n_frames=1, seed=args.seed + repeat, **common))
                 for repeat in range(args.phy_latency_repeats)]
        latencies = [run["elapsed_s"] for run in alone if run["frames_delivered"] == 1]
        row = {"bundle": name, "payload_bytes": payload_bytes, "fading": fading, "esno_db": esno_db,
               "n_frames": args.phy_frames, "frames_delivered": burst["frames_delivered"],
               "fer": burst["fer"], "elapsed_s": burst["elapsed_s"],
               # Lost frames end the clock early (it stops at the last delivery): a rate only
               # when every frame came out.
               "s_per_image": (burst["elapsed_s"] / args.phy_frames
                               if burst["frames_delivered"] == args.phy_frames else None),
               "info_throughput_bps": burst["info_throughput_bps"],
               "one_burst_latency_s": summary(latencies) if latencies else None,
               "one_burst_runs": len(alone), "one_burst_delivered": len(latencies),
               "load_average_1min": os.getloadavg()[0]}
        rows.append(row)
        logger.info("%-8s PHY %-8s %4.1f dB: %s/image (all posted), one burst %s, "
                    "%11.0f info bit/s, FER %.3f", name, fading, esno_db,
                    f"{1e3 * row['s_per_image']:.1f} ms" if row["s_per_image"] else "n/a (frames lost)",
                    f"{1e3 * np.median(latencies):.1f} ms" if latencies else "lost",
                    row["info_throughput_bps"] or 0, row["fer"])
    return rows


# ---- loopback ----------------------------------------------------------------------------------
def arrival_clock():
    """A message sink that stamps each PDU's seq with ``time.monotonic()`` on arrival."""
    import pmt
    from gnuradio import gr

    class _ArrivalClock(gr.basic_block):
        def __init__(self):
            gr.basic_block.__init__(self, name="uoisc_bench_arrival_clock", in_sig=None, out_sig=None)
            self.stamps = {}
            self.message_port_register_in(pmt.intern("in"))
            self.set_msg_handler(pmt.intern("in"), self._stamp)

        def _stamp(self, msg):
            now = time.monotonic()
            if pmt.is_pair(msg) and pmt.is_dict(pmt.car(msg)):
                seq = pmt.dict_ref(pmt.car(msg), pmt.intern("seq"), pmt.PMT_NIL)
                if pmt.is_integer(seq):
                    self.stamps.setdefault(pmt.to_long(seq), now)

    return _ArrivalClock()


def measure_loopback(name, bundle_path, args, out_dir):
    """images/s and per-image latency (source out -> decoder out) of the whole flowgraph."""
    from gnuradio.uoisc.apps.semantic_link import SemanticLinkConfig, SemanticLoopback, run_semantic_link
    rows = []
    for window in args.link_windows:
        config = SemanticLinkConfig(model=str(bundle_path), out_dir=str(out_dir / f"{name}-w{window}"),
                                    n_images=args.link_images, seed=args.seed, esno_db=LOOPBACK_ESNO_DB,
                                    fading=LOOPBACK_FADING, intra_op_threads=args.threads,
                                    window=window, write_png=False)
        fg = SemanticLoopback(config)
        sent, decoded = arrival_clock(), arrival_clock()
        fg.msg_connect((fg.source, "out"), (sent, "in"))
        fg.msg_connect((fg.decoder, "out"), (decoded, "in"))
        result = run_semantic_link(config, flowgraph=fg)
        latencies = [decoded.stamps[s] - sent.stamps[s] for s in decoded.stamps if s in sent.stamps]
        row = {"bundle": name, "window": window, "esno_db": LOOPBACK_ESNO_DB, "fading": LOOPBACK_FADING,
               "n_images": args.link_images, "n_received": result["n_received"],
               "n_lost": result["n_lost"], "elapsed_s": result["elapsed_s"],
               "images_per_s": result["images_per_s"],
               "latency_s": summary(latencies) if latencies else None, "n_latencies": len(latencies),
               "load_average_1min": os.getloadavg()[0]}
        rows.append(row)
        logger.info("%-8s loopback window %d: %6.2f images/s, latency %s ms, %d/%d received", name, window,
                    row["images_per_s"], "n/a" if not latencies else f"{1e3 * row['latency_s']['median']:.1f}",
                    row["n_received"], row["n_images"])
    return rows


# ---- split -------------------------------------------------------------------------------------
def latency_split(name, codec_rows, phy_rows):
    """Encoder / PHY / decoder seconds per image (onnxruntime CPU batch 1; one burst at the
    loopback's channel point) and their fractions of the sum."""
    def codec_s(stage):
        match = [r for r in codec_rows if r["bundle"] == name and r["stage"] == stage
                 and r["device"] == CPU_PROVIDER and r["batch_size"] == 1]
        return match[0]["per_image_s"]["median"] if match else None

    phy = [r for r in phy_rows if r["bundle"] == name and r["fading"] == LOOPBACK_FADING
           and r["esno_db"] == LOOPBACK_ESNO_DB]
    one_burst = phy[0]["one_burst_latency_s"] if phy else None
    parts = {"encoder_s": codec_s("encoder"), "phy_s": one_burst["median"] if one_burst else None,
             "decoder_s": codec_s("decoder")}
    if any(value is None for value in parts.values()):
        return None
    total = sum(parts.values())
    return {"bundle": name, **parts, "sum_s": total,
            "fractions": {key[:-2]: value / total for key, value in parts.items()}}


# ---- tables for bench/README.md ----------------------------------------------------------------
def _ms(seconds):
    return f"{1e3 * seconds:,.1f}"


def _median_p90_ms(summary_s):
    return f"{_ms(summary_s['median'])} / {_ms(summary_s['p90'])}" if summary_s else "—"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows] + [""]


def markdown_tables(report):
    """The README's tables (bundles, codec, PHY, loopback, split) from a report dict."""
    machine = report["machine"]
    lines = [f"`{report['command']}` at commit {report['commit'][:12]}, {report['created_utc']}, "
             f"{report['wall_s']:.0f} s; {machine['cpu_model']} ({machine['cores_allowed']} cores), "
             f"load average {machine['load_average_at_start'][0]:.1f} at start, "
             f"{machine['load_average_at_end'][0]:.1f} at end.", ""]
    agreement = report["torch_onnxruntime_index_agreement"]
    lines += _table(["bundle", "indices (L×T×G) × bits", "codec frame bytes", "torch weights",
                     "torch indices = onnxruntime's"],
                    [[f"{b['name']} (`{b['model_id']}`)", f"{'×'.join(map(str, b['indices_shape']))} × "
                      f"{b['bits_per_index']}", f"{b['payload_bytes']:,}", b["torch_weights"],
                      f"{agreement[b['name']]:.4f}" if b["name"] in agreement else "—"]
                     for b in report["bundles"]])

    def codec_row(runtime, device, ratio):
        return next(r for r in report["codec"] if r["runtime"] == runtime and r["device"] == device
                    and all(r[k] == ratio[k] for k in ("bundle", "stage", "batch_size")))

    rows = []
    for ratio in report["onnxruntime_over_torch"]:
        ort_row = codec_row("onnxruntime", ratio["onnxruntime_device"], ratio)
        torch_row = codec_row("torch", ratio["torch_device"], ratio)
        rows.append([ratio["bundle"], ratio["stage"], ratio["batch_size"],
                     _median_p90_ms(ort_row["per_image_s"]), _median_p90_ms(torch_row["per_image_s"]),
                     f"{ort_row['images_per_s']:,.1f}", f"{torch_row['images_per_s']:,.1f}",
                     f"**{ratio['onnxruntime_speedup_over_torch']:.2f}**",
                     f"{ratio['onnxruntime_device']} / {ratio['torch_device']}",
                     f"{torch_row['load_average_1min']:.1f}"])
    lines += _table(["bundle", "stage", "batch", "onnxruntime ms/image (median / p90)",
                     "torch eager ms/image (median / p90)", "onnxruntime images/s", "torch images/s",
                     "onnxruntime speed-up", "devices", "load avg"], rows)
    lines += _table(["bundle", "channel", "payload bytes", "ms/image, all frames posted",
                     "one burst alone, ms (median / p90)", "lone bursts delivered", "info bit/s", "FER",
                     "load avg"],
                    [[p["bundle"], f"{p['fading']} {p['esno_db']:g} dB", f"{p['payload_bytes']:,}",
                      _ms(p["s_per_image"]) if p["s_per_image"] else f"— ({p['frames_delivered']}/"
                      f"{p['n_frames']} delivered)", _median_p90_ms(p["one_burst_latency_s"]),
                      f"{p['one_burst_delivered']}/{p['one_burst_runs']}",
                      f"{p['info_throughput_bps'] or 0:,.0f}", f"{p['fer']:.3f}",
                      f"{p['load_average_1min']:.1f}"] for p in report["phy"]])
    lines += _table(["bundle", "images in flight", "images/s", "latency ms, source → decoded (median / p90)",
                     "received / sent", "load avg"],
                    [[r["bundle"], r["window"], f"{r['images_per_s']:.2f}", _median_p90_ms(r["latency_s"]),
                      f"{r['n_received']}/{r['n_images']}", f"{r['load_average_1min']:.1f}"]
                     for r in report["loopback"]])
    lines += _table(["bundle", "encoder ms", "PHY ms", "decoder ms", "sum ms", "encoder / PHY / decoder"],
                    [[s["bundle"], _ms(s["encoder_s"]), _ms(s["phy_s"]), _ms(s["decoder_s"]), _ms(s["sum_s"]),
                      " / ".join(f"{100 * s['fractions'][k]:.0f} %" for k in ("encoder", "phy", "decoder"))]
                     for s in report["split"]])
    return "\n".join(lines)


# ---- command line ------------------------------------------------------------------------------
def phy_point(text):
    """argparse type of --phy-points: ``"rayleigh:10"`` -> ``("rayleigh", 10.0)``."""
    from gnuradio.uoisc.phy.link_sim import FADINGS
    fading, _, esno = text.partition(":")
    try:
        esno_db = float(esno)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected FADING:ESNO_DB, e.g. awgn:20") from None
    if fading not in FADINGS:
        raise argparse.ArgumentTypeError(f"{text!r}: fading {fading!r} is not one of {FADINGS}")
    return fading, esno_db


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    models = parser.add_argument_group("models")
    models.add_argument("--bundles", nargs="+", choices=BUNDLE_NAMES, default=list(BUNDLE_NAMES),
                        help="which codecs to measure (--quick: tiny only)")
    models.add_argument("--tiny-bundle", default=TINY_BUNDLE, help="the shipped tiny bundle folder")
    models.add_argument("--cache-dir", default=DEFAULT_CACHE,
                        help="where the ViT-B/16-sized bundle is exported and loopback records go")
    models.add_argument("--parity-images", type=int, default=2, help="images in the ViT export's parity check")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="what to measure (the split needs codec and phy)")
    codec = parser.add_argument_group("codec timing")
    codec.add_argument("-b", "--batch-sizes", type=int, nargs="+", default=[1, 8], help="images per call")
    codec.add_argument("-r", "--repeats", type=int, default=10, help="timed calls per point")
    codec.add_argument("-w", "--warmup", type=int, default=2, help="untimed calls before each point")
    codec.add_argument("-t", "--threads", type=int, default=len(os.sched_getaffinity(0)),
                       help="onnxruntime intra-op threads and torch.set_num_threads")
    link = parser.add_argument_group("PHY and loopback")
    link.add_argument("--phy-points", type=phy_point, nargs="+", default=[phy_point(p) for p in PHY_POINTS],
                      metavar="FADING:ESNO_DB", help=f"PHY channel points ({' '.join(PHY_POINTS)})")
    link.add_argument("--phy-frames", type=int, default=20, help="frames posted at once per PHY point")
    link.add_argument("--phy-settle-s", type=float, default=15.0,
                      help="PHY runs end after this long without a delivery (lost frames cost it)")
    link.add_argument("--phy-latency-repeats", type=int, default=5, help="one-burst runs per PHY point")
    link.add_argument("--link-images", type=int, default=16, help="images per loopback run")
    link.add_argument("--link-windows", type=int, nargs="+", default=[1, 4],
                      help="images in flight in the loopback (1 = pure latency)")
    parser.add_argument("-s", "--seed", type=int, default=0, help="scenes, channel and ViT init")
    parser.add_argument("-o", "--out", default=None,
                        help=f"output JSON (default: {DEFAULT_OUT}; with --quick: <cache-dir>/codec_speed_quick.json)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: tiny bundle, batch 1, <= 3 repeats, 4 PHY frames at awgn:20 only, "
                             "4 loopback images")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning"))
    parser.add_argument("--tables", metavar="REPORT_JSON",
                        help="print the markdown tables of an existing report and exit (measures nothing)")
    return parser


def apply_quick(args):
    """--quick shrinks every count to seconds of work (--repeats only when larger than 3)."""
    args.bundles, args.batch_sizes, args.repeats, args.warmup = ["tiny"], [1], min(args.repeats, 3), 1
    args.phy_frames, args.phy_latency_repeats, args.link_images, args.link_windows = 4, 1, 4, [2]
    args.phy_points, args.phy_settle_s = [phy_point(PHY_POINTS[0])], 3.0


def check_args(parser, args):
    for flag in ("repeats", "threads", "phy_frames", "phy_latency_repeats", "link_images", "parity_images"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.warmup < 0:
        parser.error(f"--warmup must be >= 0, got {args.warmup}")
    if args.phy_settle_s <= 0:
        parser.error(f"--phy-settle-s must be > 0, got {args.phy_settle_s}")
    for flag in ("batch_sizes", "link_windows"):
        if min(getattr(args, flag)) < 1:
            parser.error(f"--{flag.replace('_', '-')} must all be >= 1, got {getattr(args, flag)}")


def run(args):
    """Every measurement of the module docstring; returns the report's tables."""
    import torch
    from uoisc_runtime import SemanticCodec
    torch.set_num_threads(args.threads)
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    tables = {"bundles": [], "codec": [], "torch_onnxruntime_index_agreement": {}, "phy": [],
              "loopback": [], "split": []}
    for name in args.bundles:
        if name == "tiny":
            path = REPO / args.tiny_bundle
            model, weights = tiny_torch_model(path)
            export_s = None
        else:
            model = random_vit_model(args.seed)
            weights = f"random init, torch.manual_seed({args.seed}) (the exported weights)"
            path, export_s = vit_bundle(model, cache, args.seed, args.parity_images)
        facts = bundle_facts(name, path, SemanticCodec.from_path(path, providers=[CPU_PROVIDER]))
        tables["bundles"].append(facts | {"torch_weights": weights, "export_s": export_s})
        if "codec" in args.parts:
            rows, agreement = measure_codec(facts, model, args)
            tables["codec"] += rows
            tables["torch_onnxruntime_index_agreement"][name] = agreement
        if "phy" in args.parts:
            tables["phy"] += measure_phy(name, facts["payload_bytes"], args)
        del model  # the ViT's torch copy is ~0.5 GB; the loopback loads the bundle twice more
        if "loopback" in args.parts:
            tables["loopback"] += measure_loopback(name, path, args, cache / "loopback")
        split = latency_split(name, tables["codec"], tables["phy"])
        if split:
            tables["split"].append(split)
    tables["onnxruntime_over_torch"] = speed_ratios(tables["codec"])
    return tables


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.tables:
        with open(args.tables, encoding="utf-8") as f:
            print(markdown_tables(json.load(f)))
        return 0
    if args.quick:
        apply_quick(args)
    check_args(parser, args)
    # Libraries log every model load at INFO on the root logger; only the bench's lines at --log-level.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logger.setLevel(args.log_level.upper())
    from gnuradio.uoisc.apps import phy_sim
    # Block loggers' INFO lines (one per PDU) would bury the bench's own.
    phy_sim.set_gr_log_level("debug" if args.log_level == "debug" else "warn")
    out = args.out or (os.path.join(args.cache_dir, "codec_speed_quick.json") if args.quick else DEFAULT_OUT)
    start = time.perf_counter()
    machine = machine_info()
    tables = run(args)
    machine["load_average_at_end"] = list(os.getloadavg())
    report = {"command": " ".join(["python bench/codec_speed.py"] + argv),
              "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "commit": git_commit(), "machine": machine, "seed": args.seed,
              "flags": {k: v for k, v in vars(args).items() if k != "out"},
              "wall_s": time.perf_counter() - start, **tables}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    logger.info("wrote %s", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
