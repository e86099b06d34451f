#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The sweep's figures (matplotlib, Agg, small PNGs).

- :func:`plot_vs_esno`: one metric vs Es/N0, one line per system, one panel per
  (fading, split) — the paper's Fig. 4 (a) answer match rate and (b) relevance loss.
- :func:`plot_examples`: originals and each system's reconstruction at one
  Es/N0 with the query and the judge's answers — the paper's Fig. 3.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from gnuradio.uoisc.apps.eval_report import select  # noqa: E402


def _panels(points):
    return sorted({(p["config"]["fading"], p["config"]["split"]) for p in points})


def plot_vs_esno(points, metric, ylabel, path, part="metrics"):
    """``metric`` (a key of the points' ``part``) vs Es/N0; returns ``path``."""
    panels = _panels(points)
    systems = list(dict.fromkeys(p["config"]["system"] for p in points))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for axis, (fading, split) in zip(axes[0], panels):
        for system in systems:
            curve = sorted((p["config"]["esno_db"], p[part][metric])
                           for p in select(points, fading=fading, split=split, system=system)
                           if p[part][metric] is not None)
            if curve:
                axis.plot(*zip(*curve), marker="o", label=system)
        axis.set_title(f"{fading}, {split}", fontsize=9)
        axis.set_xlabel("Es/N0 [dB]")
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_examples(pairs, original_answers, columns, path):
    """Fig.-3-like grid.

    Args:
        pairs: the originals (:class:`~gnuradio.uoisc.apps.eval_pairs.EvalPair`), one row each.
        original_answers: the judge's answer on each original.
        columns: ``[(title, images, answers)]`` per system: one reconstruction (uint8, the
            grey stand-in when lost) per pair and the judge's answer on it ("lost" is
            appended to the answer of a lost image by the caller).
        path: PNG to write.
    """
    n_cols = 1 + len(columns)
    fig, axes = plt.subplots(len(pairs), n_cols, figsize=(1.9 * n_cols, 2.1 * len(pairs)), squeeze=False)
    for row, pair in enumerate(pairs):
        cells = [("original", pair.image, f"A: {original_answers[row]} (truth {pair.answer})")]
        cells += [(title, images[row], f"A: {answers[row]}") for title, images, answers in columns]
        for col, (title, image, label) in enumerate(cells):
            axis = axes[row][col]
            axis.imshow(image, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_xlabel(label, fontsize=7)
            if row == 0:
                axis.set_title(title, fontsize=8)
        axes[row][0].set_ylabel(pair.question, fontsize=6, rotation=0, ha="right", va="center",
                                wrap=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
