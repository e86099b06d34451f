#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""What a semantic link run delivered, the way a person reads it.

From the sink's records (``images.jsonl`` and the PNGs beside it) this module
adds the VQA judge's answers on each original and reconstruction (same query),
draws originals and reconstructions side by side with the query and both
answers, and writes one JSON report with the link figures: bits and channel
symbols per image, LDPC codewords that failed, the receiver's SNR estimate,
PSNR and the answer match rate (the paper's metric: the judge gives the same
answer on the reconstruction as on the original). For the VLF-MSC system the
receiver also writes a caption per image; :func:`score_captions` compares it
with the ground-truth caption of a generated scene, attribute by attribute.

The judge is the torch model of ``uoisc_train`` (the tiny one shipped in
``models/uoisc-tiny-judge`` by default); it is imported only here, so the
GNU Radio blocks never load torch.
"""

import logging
import math
import os
import textwrap

import numpy as np
from PIL import Image

from gnuradio.uoisc.io.sink_records import psnr_from_mse

logger = logging.getLogger(__name__)

#: The shipped judge, relative to the repository root.
DEFAULT_JUDGE = "models/uoisc-tiny-judge"


def load_png(out_dir, name):
    """An RGB uint8 image the sink wrote, or None when it did not write it."""
    if not name:
        return None
    path = os.path.join(out_dir, name)
    if not os.path.exists(path):
        return None
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def judge_answers(records, out_dir, judge_dir=DEFAULT_JUDGE, batch_size=64):
    """Add ``answer_original``, ``answer_reconstruction`` and ``answer_match`` to every record
    that has both PNGs and a non-empty query (others get None).

    Returns:
        the number of judged records.
    """
    import torch

    from uoisc_train.judges import load_tiny_judge

    judge = load_tiny_judge(judge_dir)
    pairs = []
    for record in records:
        record.update(answer_original=None, answer_reconstruction=None, answer_match=None)
        original = load_png(out_dir, record.get("tx_png"))
        reconstruction = load_png(out_dir, record.get("rx_png"))
        if original is None or reconstruction is None or not record.get("query"):
            continue
        if original.shape != reconstruction.shape:
            logger.warning("image %s: original %s and reconstruction %s differ in shape; not judged",
                           record.get("image_id"), original.shape, reconstruction.shape)
            continue
        pairs.append((record, original, reconstruction))

    def to_tensor(images):
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0

    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start:start + batch_size]
            questions = [record["query"] for record, _, _ in chunk]
            before = judge.answer(to_tensor([o for _, o, _ in chunk]), questions)
            after = judge.answer(to_tensor([r for _, _, r in chunk]), questions)
            for (record, _, _), a, b in zip(chunk, before, after):
                record.update(answer_original=a, answer_reconstruction=b, answer_match=a == b)
    return len(pairs)


def reference_caption(record):
    """The ground-truth caption of the scene a record's original was, or None when the
    original was not a generated scene (the source's meta holds ``split`` and ``scene_seed``)."""
    reference = record.get("reference_meta") or {}
    if "scene_seed" not in reference or "split" not in reference:
        return None
    from uoisc_train.world import generate_scene
    return generate_scene(int(reference["scene_seed"]), int(reference["height"]), reference["split"]).caption


def score_captions(records):
    """Add ``caption`` (the receiver's, from the decoder meta), ``reference_caption`` and
    ``caption_scores`` (:func:`uoisc_train.vlf.caption_metrics.caption_scores`: exact match
    and per-attribute accuracy) to every record; None where it does not apply.

    Returns:
        the mean scores over the records that have both captions (with ``n``), or None.
    """
    pairs = []
    for record in records:
        caption = link_meta(record, "caption")
        reference = reference_caption(record) if caption is not None else None
        record.update(caption=caption, reference_caption=reference, caption_scores=None)
        if reference is not None:
            pairs.append((record, reference, caption))
    if not pairs:
        return None
    # The metrics are plain Python, but their package imports torch (apps may; blocks never do).
    from uoisc_train.vlf.caption_metrics import caption_metrics, caption_scores
    for record, reference, caption in pairs:
        record["caption_scores"] = caption_scores(reference, caption)
    return caption_metrics([p[1] for p in pairs], [p[2] for p in pairs])


def link_meta(record, key):
    """A field of the metadata the decoder emitted (PHY figures, decode status) for a
    record of the sink (which nests it under ``meta``)."""
    return (record.get("meta") or {}).get(key)


def _mean(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(values)) if values else None


def _psnr_of_mean_mse(errors):
    """PSNR (dB, peak 255) of the mean of the sink's per-image MSEs, which are on the uint8
    scale (None without matched images, inf when every reconstruction is exact)."""
    mean = _mean(errors)
    return None if mean is None else psnr_from_mse(mean)


def summarize(result, payload_bytes, channel_symbols, caption_accuracy=None):
    """The report's ``summary``: counts, rates and means over the run.

    Args:
        result: what ``semantic_link.run_semantic_link`` returned (records judged or not).
        payload_bytes: codec frame bytes per image.
        channel_symbols: channel symbols of one image's burst.
        caption_accuracy: what :func:`score_captions` returned (VLF runs), else None.
    """
    records = result["records"]
    judged = [r for r in records if r.get("answer_match") is not None]
    n_codewords = sum(int(link_meta(r, "n_codewords") or 0) for r in records)
    failed = sum(len(link_meta(r, "cw_crc_ok") or []) - int(sum(link_meta(r, "cw_crc_ok") or []))
                 for r in records)
    return {
        "n_requested": result["n_requested"], "n_emitted": result["n_emitted"],
        "n_received": result["n_received"], "n_lost": result["n_lost"],
        "bits_per_image": 8 * payload_bytes, "channel_symbols_per_image": channel_symbols,
        "codewords": n_codewords, "codewords_failed": failed,
        "codeword_failure_rate": failed / n_codewords if n_codewords else None,
        "mean_snr_est_db": _mean([link_meta(r, "snr_est_db") for r in records]),
        "psnr_db": _psnr_of_mean_mse([r.get("mse") for r in records]),
        "n_judged": len(judged),
        "answer_match_rate": (sum(bool(r["answer_match"]) for r in judged) / len(judged)
                              if judged else None),
        "caption_accuracy": caption_accuracy,
        "elapsed_s": result["elapsed_s"], "images_per_s": result["images_per_s"],
    }


def side_by_side(records, out_dir, path, max_rows=8):
    """Originals (left) and reconstructions (right) with the query and the judge's answers,
    and, for VLF runs, the received caption under the generated image (and the scene's
    true caption under the original)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in records if load_png(out_dir, r.get("rx_png")) is not None][:max_rows]
    if not rows:
        return None
    has_captions = any(r.get("caption") is not None for r in rows)
    row_height = 4.4 if has_captions else 2.9  # room for the wrapped captions
    received = "generated" if has_captions else "received"
    fig, axes = plt.subplots(len(rows), 2, figsize=(6.4, row_height * len(rows)), squeeze=False)
    for (left, right), record in zip(axes, rows):
        original = load_png(out_dir, record.get("tx_png"))
        for axis, image, title in (
                (left, original, f"sent: {record.get('answer_original') or '?'}"),
                (right, load_png(out_dir, record.get("rx_png")),
                 f"{received}: {record.get('answer_reconstruction') or '?'}")):
            axis.axis("off")
            if image is not None:
                axis.imshow(image, interpolation="nearest")
            axis.set_title(title, fontsize=9)
        snr = link_meta(record, "snr_est_db")
        left_lines = [f"Q: {record.get('query') or '(none)'}"]
        right_lines = [f"SNR est {snr:.1f} dB" if snr is not None else ""]
        if record.get("reference_caption"):
            left_lines.append(f"true: {record['reference_caption']}")
        if record.get("caption") is not None:
            right_lines.append(f"caption: {record['caption']}")
        for axis, lines in ((left, left_lines), (right, right_lines)):
            axis.text(0.0, -0.08, "\n".join(textwrap.fill(line, 44) for line in lines),
                      transform=axis.transAxes, fontsize=7 if has_captions else 8, va="top")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def summary_lines(report):
    """A human-readable summary of a report."""
    s, c = report["summary"], report["config"]

    def fmt(value, spec):
        return "n/a" if value is None else format(value, spec)

    return [
        f"semantic link: {c['model']} over {c['fading']} at Es/N0 = {c['esno_db']:.1f} dB "
        f"({c['code']} + 8-PSK)",
        f"  images          {s['n_received']}/{s['n_requested']} received, {s['n_lost']} lost",
        f"  per image       {s['bits_per_image']} bits, {s['channel_symbols_per_image']} channel symbols",
        f"  LDPC codewords  {s['codewords_failed']}/{s['codewords']} failed their CRC",
        f"  SNR estimate    {fmt(s['mean_snr_est_db'], '.1f')} dB (mean)",
        f"  PSNR            {fmt(s['psnr_db'], '.1f')} dB (of the mean MSE of received images)",
        f"  answer match    {fmt(s['answer_match_rate'], '.3f')} ({s['n_judged']} judged)",
        *_caption_lines(report),
        f"  speed           {s['images_per_s']:.2f} images/s over {s['elapsed_s']:.1f} s",
    ]


def _caption_lines(report):
    """Summary lines of a VLF run: its captions' attribute accuracy and the first captions."""
    accuracy = report["summary"].get("caption_accuracy")
    lines = []
    if accuracy:
        lines.append("  captions        " + ", ".join(
            f"{key} {accuracy[key]:.2f}" for key in ("colour", "count", "size", "shape", "position",
                                                    "background", "exact")
            if key in accuracy) + f" ({accuracy['n']} scored)")
    for record in report.get("images", [])[:3]:
        if record.get("caption") is not None:
            lines.append(f"  seq {record['seq']:<5}       {record['caption']}")
    return lines
