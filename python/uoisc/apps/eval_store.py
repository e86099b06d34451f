#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Where ``uoisc-eval`` keeps its results: one JSON file per point, and the combined file.

A *point* is one (system, fading, split, Es/N0) of the sweep. Its file
``<out>/points/<key>.json`` holds the configuration that produced it, the
aggregate metrics, the link figures and the per-pair scores; a rerun skips a
point whose file exists with the same configuration (resume after an
interruption), and redoes it when the configuration changed (e.g. another
``-n``). ``results.json`` gathers every point without the per-pair scores.

Schemas (checked by :func:`check_point` and :func:`check_results`):

- point: ``schema`` (= :data:`POINT_SCHEMA`), ``key``, ``config`` (dict, see
  :data:`CONFIG_KEYS`), ``metrics`` (:data:`METRIC_KEYS`), ``link``
  (:data:`LINK_KEYS`), ``pairs`` (list of per-pair dicts), ``elapsed_s`` and, when known,
  ``commit`` (the checkout that computed it).
- results: ``schema`` (= :data:`RESULTS_SCHEMA`), ``commit``, ``command``,
  ``points`` (points without ``pairs``), ``symbols_ratio`` (dict or None).
"""

import json
import math
import os
import pathlib
import re

POINT_SCHEMA = "uoisc-eval-point/1"
RESULTS_SCHEMA = "uoisc-eval-results/1"
POINTS_DIR = "points"
RESULTS_FILE = "results.json"

CONFIG_KEYS = ("system", "model", "jpeg2000_bytes", "fading", "split", "esno_db", "n_pairs",
               "pair_seed", "channel_seed", "code", "doppler", "judge")
METRIC_KEYS = ("n_pairs", "n_lost", "answer_match_rate", "accuracy", "accuracy_original",
               "relevance_loss", "psnr_db", "answer_match_by_kind")
LINK_KEYS = ("payload_bytes", "bits_per_image", "channel_symbols_per_image", "n_received", "n_lost",
             "codewords", "codewords_failed", "codeword_failure_rate", "mean_snr_est_db",
             "decode_status")

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


def point_key(config):
    """File-name key of a point, e.g. ``uoisc__rayleigh__test_zeroshot__+10.0dB``."""
    raw = f"{config['system']}__{config['fading']}__{config['split']}__{config['esno_db']:+.1f}dB"
    return _UNSAFE.sub("_", raw)


def point_path(out_dir, config):
    return pathlib.Path(out_dir) / POINTS_DIR / f"{point_key(config)}.json"


def load_point(path, check=None):
    """The point stored at ``path``, or None when missing or unreadable (then it is redone).

    Args:
        path: the point's file.
        check: schema check raising ValueError (default :func:`check_point`; other sweeps,
            e.g. ``uoisc-vlf-eval``, store their own point schema the same way).
    """
    try:
        with open(path, encoding="utf-8") as f:
            point = json.load(f)
        (check or check_point)(point)
        return point
    except (OSError, ValueError):
        return None


def is_done(out_dir, config, check=None):
    """True when the point of ``config`` is stored with exactly this configuration."""
    point = load_point(point_path(out_dir, config), check)
    return point is not None and point["config"] == config


def write_json(path, value):
    """Write ``value`` as JSON atomically (a killed run leaves no half-written file to resume
    from); returns ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def save_point(out_dir, point, check=None):
    """Check a point (``check``, default :func:`check_point`) and write it atomically."""
    (check or check_point)(point)
    return write_json(point_path(out_dir, point["config"]), point)


def require_keys(mapping, keys, where):
    """Raise ValueError unless ``mapping`` is a dict holding every key (``where`` names it)."""
    if not isinstance(mapping, dict):
        raise ValueError(f"{where} must be a dict, got {type(mapping).__name__}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(f"{where} lacks {missing}")


def _check_rate(value, where):
    if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f"{where} must be in [0, 1] or None, got {value!r}")


def check_point(point, with_pairs=True):
    """Raise ValueError naming the first field of ``point`` that breaks the schema."""
    require_keys(point, ("schema", "key", "config", "metrics", "link", "elapsed_s"), "point")
    if point["schema"] != POINT_SCHEMA:
        raise ValueError(f"point schema {point['schema']!r}, expected {POINT_SCHEMA!r}")
    require_keys(point["config"], CONFIG_KEYS, "point config")
    if point["key"] != point_key(point["config"]):
        raise ValueError(f"point key {point['key']!r} does not match its config")
    metrics, link = point["metrics"], point["link"]
    require_keys(metrics, METRIC_KEYS, "point metrics")
    require_keys(link, LINK_KEYS, "point link")
    for name in ("answer_match_rate", "accuracy", "accuracy_original"):
        _check_rate(metrics[name], f"metrics.{name}")
    _check_rate(link["codeword_failure_rate"], "link.codeword_failure_rate")
    if not 0 <= metrics["n_lost"] <= metrics["n_pairs"]:
        raise ValueError(f"metrics.n_lost={metrics['n_lost']!r} outside [0, n_pairs]")
    if not (isinstance(metrics["relevance_loss"], float) and 0.0 <= metrics["relevance_loss"] <= 2.0):
        raise ValueError(f"metrics.relevance_loss={metrics['relevance_loss']!r} outside [0, 2]")
    if with_pairs:
        require_keys(point, ("pairs",), "point")
        if len(point["pairs"]) != metrics["n_pairs"]:
            raise ValueError(f"{len(point['pairs'])} pair scores for n_pairs={metrics['n_pairs']}")


def check_results(results):
    """Raise ValueError naming the first field of a ``results.json`` that breaks the schema."""
    require_keys(results, ("schema", "commit", "command", "points", "symbols_ratio"), "results")
    if results["schema"] != RESULTS_SCHEMA:
        raise ValueError(f"results schema {results['schema']!r}, expected {RESULTS_SCHEMA!r}")
    for point in results["points"]:
        check_point(point, with_pairs=False)


def without_pairs(point):
    return {k: v for k, v in point.items() if k != "pairs"}


def json_ready(value):
    """Non-finite floats become None (JSON has no inf/NaN), recursively."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sweep_order(point):
    """Sort key of points: system, fading, split, Es/N0."""
    config = point["config"]
    return config["system"], config["fading"], config["split"], config["esno_db"]


def write_results(out_dir, points, commit, command, symbols_ratio):
    """Write ``results.json`` (points sorted by system, fading, split and Es/N0, without per-pair
    scores); returns its path."""
    results = {"schema": RESULTS_SCHEMA, "commit": commit, "command": command,
               "points": [without_pairs(p) for p in sorted(points, key=sweep_order)],
               "symbols_ratio": symbols_ratio}
    check_results(results)
    return write_json(pathlib.Path(out_dir) / RESULTS_FILE, json_ready(results))
