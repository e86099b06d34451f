#!/usr/bin/env python3
"""Scene generator speed on one CPU core: scenes per second at 64, 96 and 128 px.

Target (issue 3): >= 500 scenes/s at 64×64 on one core. Measures
``generate_scene`` (image, objects, caption and VQA triples) over the
``train`` split; each size is timed ``--repeats`` times over ``--n`` scenes and
the median rate is reported, with the machine and the command, as JSON.

    python bench/world_speed.py --output bench/world_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

# One core: pin the process and keep BLAS/OpenMP pools (unused here) to one thread.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

from uoisc_runtime.machine import cpu_model  # noqa: E402
from uoisc_train.world import GENERATOR_VERSION, generate_scene, scene_seed  # noqa: E402

TARGET_SCENES_PER_S_AT_64 = 500



def scenes_per_second(size: int, n: int, repeats: int, split: str, seed: int) -> list[float]:
    """Rates (scenes/s) of ``repeats`` runs generating ``n`` scenes each."""
    rates = []
    for repeat in range(repeats):
        start = time.perf_counter()
        for index in range(n):
            generate_scene(scene_seed(seed + repeat, index), size, split)
        rates.append(n / (time.perf_counter() - start))
    return rates


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 96, 128])
    parser.add_argument("-n", "--n", type=int, default=1000, help="scenes per run")
    parser.add_argument("-r", "--repeats", type=int, default=3)
    parser.add_argument("--split", default="train")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--core", type=int, default=None,
                        help="CPU core to pin to (default: the first allowed one)")
    parser.add_argument("-o", "--output", help="JSON file to write (default: stdout only)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeats < 1:
        parser.error("--n and --repeats must be >= 1")

    core = args.core
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0)) if core is None else core
        os.sched_setaffinity(0, {core})
    generate_scene(0, args.sizes[0], args.split)  # warm-up: imports, caches

    results = {}
    for size in args.sizes:
        rates = scenes_per_second(size, args.n, args.repeats, args.split, args.seed)
        results[str(size)] = {"median_scenes_per_s": round(statistics.median(rates), 1),
                              "runs_scenes_per_s": [round(r, 1) for r in rates]}
    report = {
        "benchmark": "world_speed",
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "generator_version": GENERATOR_VERSION,
        "split": args.split, "n": args.n, "repeats": args.repeats, "seed": args.seed,
        "pinned_core": core,
        "machine": {"cpu": cpu_model(), "logical_cpus": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__},
        "results": results,
        "target_scenes_per_s_at_64": TARGET_SCENES_PER_S_AT_64,
        "meets_target": (results["64"]["median_scenes_per_s"] >= TARGET_SCENES_PER_S_AT_64
                         if "64" in results else None),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as output:
            output.write(text + "\n")
    return report


if __name__ == "__main__":
    main()
