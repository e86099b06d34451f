#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Reading a sweep of points: the JPEG2000 symbols ratio and the Markdown tables.

The symbols ratio is the paper's "82 % fewer symbols" claim turned around: how
many channel symbols per image JPEG2000 needs, through the same PHY and
channel, to reach the answer match rate UO-ISC reaches at a given Es/N0,
divided by UO-ISC's symbols. JPEG2000 is measured at a few byte budgets
(``jpeg2000``, ``jpeg2000@<bytes>``); the symbols it needs are interpolated
linearly between the two budgets around UO-ISC's match rate.
"""

import math

#: Systems that are JPEG2000 at some budget.
JPEG2000_SYSTEMS_PREFIX = "jpeg2000"


def select(points, **conditions):
    """Points whose config has every ``key=value`` of ``conditions``."""
    return [p for p in points if all(p["config"].get(k) == v for k, v in conditions.items())]


def _amr(point):
    return point["metrics"]["answer_match_rate"]


def _symbols(point):
    return point["link"]["channel_symbols_per_image"]


def interpolate_symbols(curve, target):
    """Symbols at which a (symbols, AMR) curve first reaches ``target``.

    Args:
        curve: ``[(symbols, amr)]`` sorted by symbols.
        target: the AMR to reach.

    Returns:
        ``(symbols, bound)``: ``bound`` is "interpolated", "at_most" (the smallest
        budget already reaches it) or "not_reached" (symbols is then None).
    """
    for i, (symbols, amr) in enumerate(curve):
        if amr >= target:
            if i == 0:
                return float(symbols), "at_most"
            (s0, a0), (s1, a1) = curve[i - 1], (symbols, amr)
            return s0 + (target - a0) * (s1 - s0) / (a1 - a0), "interpolated"
    return None, "not_reached"


def symbols_ratio(points, reference="uoisc", fading="rayleigh", split="test_zeroshot", esno_db=10.0):
    """JPEG2000's channel symbols for the reference system's AMR, over the reference's symbols.

    Returns:
        None when the reference point or every JPEG2000 point is missing; else a dict
        with the inputs, ``target_amr``, ``reference_symbols``, the JPEG2000 ``curve``
        (system, symbols, amr), ``jpeg2000_symbols``, ``bound`` (see
        :func:`interpolate_symbols`) and ``ratio`` (when ``not_reached``: the lower bound
        largest-budget symbols / reference symbols, flagged by ``bound``).
    """
    where = {"fading": fading, "split": split, "esno_db": float(esno_db)}
    ref = select(points, system=reference, **where)
    if not ref:
        return None
    # Only JPEG2000 sent with the reference's PHY code: budgets in other modes are another curve.
    jpeg = [p for p in select(points, **where) if p["config"]["system"].startswith(JPEG2000_SYSTEMS_PREFIX)
            and p["config"].get("code") == ref[0]["config"].get("code")]
    if not jpeg or _amr(ref[0]) is None:
        return None
    target, ref_symbols = _amr(ref[0]), _symbols(ref[0])
    jpeg.sort(key=_symbols)
    curve = [(_symbols(p), _amr(p)) for p in jpeg]
    needed, bound = interpolate_symbols(curve, target)
    ratio = (needed if needed is not None else curve[-1][0]) / ref_symbols
    return {**where, "reference": reference, "target_amr": target, "reference_symbols": ref_symbols,
            "curve": [{"system": p["config"]["system"], "symbols": s, "answer_match_rate": a}
                      for p, (s, a) in zip(jpeg, curve)],
            "jpeg2000_symbols": needed, "bound": bound, "ratio": ratio}


def _fmt(value, spec):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format(value, spec)


#: (column title, where the value is, format) of the per-metric tables.
TABLE_METRICS = (
    ("answer match rate", ("metrics", "answer_match_rate"), ".3f"),
    ("answer match rate of the images that arrived", ("metrics", "answer_match_rate_received"), ".3f"),
    ("accuracy vs ground truth", ("metrics", "accuracy"), ".3f"),
    ("relevance loss (eq. 11)", ("metrics", "relevance_loss"), ".4f"),
    ("PSNR of received images [dB]", ("metrics", "psnr_db"), ".2f"),
    ("images lost", ("metrics", "n_lost"), "d"),
    ("LDPC codeword failure rate", ("link", "codeword_failure_rate"), ".3f"),
)


def metric_tables(points, table_metrics=TABLE_METRICS):
    """Markdown lines: one table per (fading, split, metric) with systems as rows and Es/N0
    as columns.

    Args:
        points: the sweep's points.
        table_metrics: ``(title, (part, key), format)`` per table; a point whose ``part``
            is None (a system without that output) has no row in it.
    """
    lines = []
    groups = sorted({(p["config"]["fading"], p["config"]["split"]) for p in points})
    systems = list(dict.fromkeys(p["config"]["system"] for p in points))
    for fading, split in groups:
        group = select(points, fading=fading, split=split)
        snrs = sorted({p["config"]["esno_db"] for p in group})
        for title, (part, key), spec in table_metrics:
            lines += [f"**{title}** — {fading}, {split}", "",
                      "| system | " + " | ".join(f"{s:g} dB" for s in snrs) + " |",
                      "|---|" + "---:|" * len(snrs)]
            for system in systems:
                row = {p["config"]["esno_db"]: p[part].get(key) for p in select(group, system=system)
                       if p[part] is not None}
                if row:
                    lines.append(f"| {system} | " + " | ".join(_fmt(row.get(s), spec) for s in snrs) + " |")
            lines.append("")
    return lines


def markdown_tables(points):
    """:func:`metric_tables` of :data:`TABLE_METRICS`, then a table of bits and channel
    symbols per image."""
    systems = list(dict.fromkeys(p["config"]["system"] for p in points))
    lines = metric_tables(points)
    lines += ["**bits and channel symbols per image**", "",
              "| system | payload bytes | bits | channel symbols |", "|---|---:|---:|---:|"]
    for system in systems:
        link = select(points, system=system)[0]["link"]
        lines.append(f"| {system} | {link['payload_bytes']} | {link['bits_per_image']} | "
                     f"{link['channel_symbols_per_image']} |")
    return "\n".join(lines) + "\n"
