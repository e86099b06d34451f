#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Reading a ``uoisc-vlf-eval`` sweep: issue 6's image-only points, Markdown tables and plots.

The image-only UO-ISC and JPEG2000 figures at their own (much larger) symbols
are not transmitted again: :func:`reference_points` takes them from issue 6's
``results.json`` files (``uoisc-eval``), at the sweep's (fading, split, Es/N0),
and they appear in the image tables and plots as ``<system> [issue 6]``.
"""

import json
import logging
import os

import numpy as np

from gnuradio.uoisc.apps import eval_plots, eval_report, eval_store, vlf_eval_metrics

logger = logging.getLogger(__name__)

#: issue 6's published runs, first match wins (the 200-pair run before the 100-pair sweep).
DEFAULT_REFERENCE_RESULTS = ("results/rayleigh-zeroshot-n200/results.json", "results/sweep-all/results.json")
#: Their systems shown next to VLF.
DEFAULT_REFERENCE_SYSTEMS = ("uoisc", "jpeg2000")
REFERENCE_SUFFIX = " [issue 6]"

TEXT_TABLES = tuple((f"text: {key} accuracy", ("text", key), ".3f") for key in vlf_eval_metrics.TEXT_METRICS)
IMAGE_TABLES = (
    ("image: answer match rate (judge, generated/received vs original)", ("image", "answer_match_rate"), ".3f"),
    ("image: answer match rate of the images that arrived", ("image", "answer_match_rate_received"), ".3f"),
    ("image: relevance loss (eq. 11)", ("image", "relevance_loss"), ".4f"),
)
LINK_TABLES = (
    ("frames lost", ("link", "n_lost"), "d"),
    ("LDPC codeword failure rate", ("link", "codeword_failure_rate"), ".3f"),
)


def reference_points(paths, systems, wanted):
    """issue 6's points of ``systems`` at the wanted (fading, split, Es/N0), as image-only points.

    Args:
        paths: ``uoisc-eval`` ``results.json`` files; a missing one is logged and skipped.
        systems: system names in those files.
        wanted: set of ``(fading, split, esno_db)``.

    Returns:
        list of dicts: ``source`` (the file), ``config`` (its config, system renamed with
        :data:`REFERENCE_SUFFIX`), ``text`` None, ``image`` (its metrics), ``link``.
    """
    found = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                results = json.load(f)
            eval_store.check_results(results)
        except (OSError, ValueError) as error:
            logger.warning("reference results %s not used: %s", path, error)
            continue
        for point in results["points"]:
            config = point["config"]
            where = (config["fading"], config["split"], config["esno_db"])
            key = (config["system"],) + where
            if config["system"] in systems and where in wanted and key not in found:
                found[key] = {"source": path, "config": {**config, "system": config["system"] + REFERENCE_SUFFIX},
                              "text": None, "image": point["metrics"], "link": point["link"]}
    return [found[key] for key in sorted(found)]


def _bits_table(points):
    lines = ["**bits and channel symbols per image** (means over every scene of the system's points: "
             "captions vary in length)", "",
             "| system | payload bytes | bits | channel symbols |", "|---|---:|---:|---:|"]
    for system in dict.fromkeys(p["config"]["system"] for p in points):
        links = [p["link"] for p in eval_report.select(points, system=system)]
        payload = np.mean([link.get("mean_payload_bytes", link["payload_bytes"]) for link in links])
        symbols = np.mean([link.get("mean_channel_symbols_per_image", link["channel_symbols_per_image"])
                           for link in links])
        lines.append(f"| {system} | {payload:.1f} | {8 * payload:.0f} | {symbols:.0f} |")
    return lines


def markdown_tables(points, references=(), chance=()):
    """Text, image and link tables per (fading, split), then bits and symbols per image.

    Args:
        points: the sweep's points.
        references: :func:`reference_points` (image tables and the bits table).
        chance: chance-level rows without a link (text and image tables).
    """
    lines = eval_report.metric_tables(list(points) + list(chance), TEXT_TABLES)
    lines += eval_report.metric_tables(list(points) + list(references) + list(chance), IMAGE_TABLES)
    lines += eval_report.metric_tables(points, LINK_TABLES)
    lines += _bits_table(list(points) + list(references))
    return "\n".join(lines) + "\n"


def write_figures(points, references, out_dir):
    """Text accuracy and image answer match rate vs Es/N0 (one panel per fading, split);
    returns the written paths.

    Args:
        points: the sweep's points.
        references: other rows to draw (issue 6's points, chance levels).
        out_dir: where the PNGs go.
    """
    paths = []
    text = [p for p in list(points) + list(references) if p["text"] is not None]
    for key in ("object", "colour", "count", "background"):
        if text:
            paths.append(eval_plots.plot_vs_esno(text, key, f"caption {key} accuracy",
                                                 os.path.join(out_dir, f"text_{key}_vs_esno.png"), part="text"))
    image = [p for p in list(points) + list(references) if p["image"] is not None]
    if image:
        paths.append(eval_plots.plot_vs_esno(image, "answer_match_rate", "image answer match rate",
                                             os.path.join(out_dir, "image_amr_vs_esno.png"), part="image"))
    return paths


def write_examples(points, out_dir, pairs_for, fading="rayleigh", split="test_zeroshot"):
    """VLF at its lowest and highest Es/N0 of one (fading, split), next to the other image systems:
    the Fig.-3-like grid of generated/received images with the judge's answers
    (``examples_<fading>_<split>.png``) and the captions received for the same scenes
    (``examples_<fading>_<split>.md``). Returns the written paths ([] without stored VLF images).
    """
    from gnuradio.uoisc.apps import evaluate
    from gnuradio.uoisc.apps.vlf_eval_systems import VLF

    vlf = sorted((p for p in eval_report.select(points, system=VLF, fading=fading, split=split)
                  if os.path.exists(evaluate.examples_path(out_dir, p["config"]))),
                 key=lambda p: p["config"]["esno_db"])
    if not vlf:
        return []
    snrs = sorted({vlf[0]["config"]["esno_db"], vlf[-1]["config"]["esno_db"]})
    shown = [p for esno in snrs for p in eval_report.select(points, fading=fading, split=split, esno_db=esno)
             if p["image"] is not None and os.path.exists(evaluate.examples_path(out_dir, p["config"]))]
    stem = os.path.join(out_dir, f"examples_{fading}_{split}")
    rows = evaluate.write_example_grid(shown, [p["pairs"]["image"] for p in shown], pairs_for(shown[0]["config"]),
                                       out_dir, stem + ".png")
    texts = [p for esno in snrs for p in eval_report.select(points, fading=fading, split=split, esno_db=esno)
             if p["text"] is not None]
    lines = [f"# Received captions, {fading}, {split} (the rows of {os.path.basename(stem)}.png)", ""]
    for row, index in enumerate(rows):
        lines += [f"**row {row + 1}** (scene {index}) truth: {texts[0]['pairs']['text'][index]['reference']}", ""]
        for point in texts:
            score = point["pairs"]["text"][index]
            received = "(lost)" if score["lost"] else repr(score["received"])
            lines.append(f"- {point['config']['system']} @ {point['config']['esno_db']:g} dB "
                         f"(object {score['object']:.2f}, colour {score['colour']:.2f}): {received}")
        lines.append("")
    with open(stem + ".md", "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return [stem + ".png", stem + ".md"]
