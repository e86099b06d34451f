#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The point and results schemas of ``uoisc-vlf-eval`` (stored the way ``uoisc-eval`` stores its own).

A point is one (system, fading, split, Es/N0); it is kept in
``<out>/points/<key>.json`` by :mod:`gnuradio.uoisc.apps.eval_store` (same
keys, atomic writes, resume when the configuration is unchanged) with
:func:`check_point` as its schema check.

- point: ``schema`` (= :data:`POINT_SCHEMA`), ``key``, ``config``
  (:data:`CONFIG_KEYS`), ``text`` (``vlf_eval_metrics.summarize_captions``, or None
  for an image-only system), ``image`` (``eval_metrics.summarize_scores``, or None
  for a text-only system), ``link`` (``eval_store.LINK_KEYS`` plus
  ``mean_payload_bytes`` and ``mean_channel_symbols_per_image``), ``pairs``
  (``{"text": [...] | None, "image": [...] | None}``, per-pair scores), ``elapsed_s``
  and ``commit``.
- results: ``schema`` (= :data:`RESULTS_SCHEMA`), ``commit``, ``command``,
  ``points`` (without ``pairs``), ``reference_points`` (issue 6's image-only points
  at their own symbols, see ``vlf_eval_report.reference_points``) and
  ``chance_points`` (another scene's caption and image, see
  ``vlf_evaluate.chance_points``).
"""

import pathlib

from gnuradio.uoisc.apps import eval_store, vlf_eval_metrics
from gnuradio.uoisc.apps.vlf_eval_systems import KIND_IMAGE, KIND_TEXT, KIND_VLF

POINT_SCHEMA = "uoisc-vlf-eval-point/1"
RESULTS_SCHEMA = "uoisc-vlf-eval-results/1"
RESULTS_FILE = eval_store.RESULTS_FILE

CONFIG_KEYS = ("system", "kind", "max_bytes", "model", "fading", "split", "esno_db", "n_pairs", "pair_seed",
               "channel_seed", "code", "doppler", "judge", "steps", "guidance", "generator_seed")
LINK_KEYS = eval_store.LINK_KEYS + ("mean_payload_bytes", "mean_channel_symbols_per_image")
IMAGE_RATES = ("answer_match_rate", "accuracy", "accuracy_original")


def _check_rates(metrics, names, where):
    for name in names:
        value = metrics[name]
        if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
            raise ValueError(f"{where}.{name}={value!r} outside [0, 1]")


def _check_part(point, part, expected, keys, rates):
    """``point[part]`` is a metrics dict exactly when ``expected``; its rates lie in [0, 1]."""
    metrics = point[part]
    if (metrics is not None) != expected:
        raise ValueError(f"{part} metrics of a {point['config']['kind']!r} system must be "
                         f"{'a dict' if expected else 'None'}, got {metrics!r}")
    if metrics is None:
        return
    eval_store.require_keys(metrics, keys, f"point {part}")
    _check_rates(metrics, rates, part)
    if not 0 <= metrics["n_lost"] <= metrics["n_pairs"] == point["config"]["n_pairs"]:
        raise ValueError(f"{part}: n_lost={metrics['n_lost']!r}, n_pairs={metrics['n_pairs']!r} "
                         f"for a point of {point['config']['n_pairs']} pairs")


def check_point(point, with_pairs=True):
    """Raise ValueError naming the first field of ``point`` that breaks the schema."""
    eval_store.require_keys(point, ("schema", "key", "config", "text", "image", "link", "elapsed_s"), "point")
    if point["schema"] != POINT_SCHEMA:
        raise ValueError(f"point schema {point['schema']!r}, expected {POINT_SCHEMA!r}")
    config = point["config"]
    eval_store.require_keys(config, CONFIG_KEYS, "point config")
    if point["key"] != eval_store.point_key(config):
        raise ValueError(f"point key {point['key']!r} does not match its config")
    if config["kind"] not in (KIND_VLF, KIND_TEXT, KIND_IMAGE):
        raise ValueError(f"config.kind {config['kind']!r} is not a system kind")
    _check_part(point, "text", config["kind"] != KIND_IMAGE,
                vlf_eval_metrics.TEXT_METRICS + ("n_pairs", "n_lost"), vlf_eval_metrics.TEXT_METRICS)
    _check_part(point, "image", config["kind"] != KIND_TEXT, eval_store.METRIC_KEYS, IMAGE_RATES)
    eval_store.require_keys(point["link"], LINK_KEYS, "point link")
    _check_rates(point["link"], ("codeword_failure_rate",), "link")
    if with_pairs:
        eval_store.require_keys(point, ("pairs",), "point")
        for part in ("text", "image"):
            scores = point["pairs"].get(part)
            if point[part] is not None and len(scores or ()) != config["n_pairs"]:
                raise ValueError(f"{len(scores or ())} {part} pair scores for n_pairs={config['n_pairs']}")


def check_results(results):
    """Raise ValueError naming the first field of a ``results.json`` that breaks the schema."""
    eval_store.require_keys(results, ("schema", "commit", "command", "points", "reference_points", "chance_points"),
                            "results")
    if results["schema"] != RESULTS_SCHEMA:
        raise ValueError(f"results schema {results['schema']!r}, expected {RESULTS_SCHEMA!r}")
    for point in results["points"]:
        check_point(point, with_pairs=False)


def write_results(out_dir, points, commit, command, reference_points, chance_points):
    """Write ``results.json`` (points in sweep order, without per-pair scores); returns its path."""
    results = {"schema": RESULTS_SCHEMA, "commit": commit, "command": command,
               "points": [eval_store.without_pairs(p) for p in sorted(points, key=eval_store.sweep_order)],
               "reference_points": reference_points, "chance_points": chance_points}
    check_results(results)
    return eval_store.write_json(pathlib.Path(out_dir) / RESULTS_FILE, eval_store.json_ready(results))
