#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""One evaluation point through the real flowgraph: pairs in, reconstructions and link figures out.

The pairs go through :class:`~gnuradio.uoisc.apps.semantic_link.SemanticLoopback`
(image source -> codec encoder -> LDPC + 8-PSK PHY -> fading channel -> receiver
with estimated CSI -> codec decoder -> image sink), exactly the flowgraph of the
``uoisc`` demo; nothing here models the PHY. The sink's records and PNGs give
each pair's reconstruction (None when the image never arrived) and the
receiver's metadata (codeword CRCs, SNR estimate, decode status).

Systems (names on the ``uoisc-eval`` command line):

- ``uoisc``, ``no-text``, ``no-vlm``: the shipped bundles of :data:`BUNDLES`;
- ``jpeg2000``: the JPEG2000 baseline at the channel symbols of ``uoisc``;
- ``jpeg2000@<bytes>``: JPEG2000 with a codestream budget of ``<bytes>``;
- any bundle folder (e.g. codecs of other segment lengths for the sweep);
- any of these followed by ``:<code>``, e.g. ``jpeg2000@424:n1800_k902x4``: sent with that
  PHY code instead of the sweep's (:func:`split_code`), so one sweep can compare the
  low-SNR modes with the plain code.
"""

import collections
import dataclasses
import logging
import os
import pathlib

import numpy as np

from gnuradio.uoisc.apps import semantic_link
from gnuradio.uoisc.apps.eval_pairs import write_pair_folder
from gnuradio.uoisc.io.images import read_image

logger = logging.getLogger(__name__)

#: Shipped bundles by system name, relative to the repository root.
BUNDLES = {"uoisc": "models/uoisc-tiny-uoisc", "no-text": "models/uoisc-tiny-no-text",
           "no-vlm": "models/uoisc-tiny-no-vlm"}
JPEG2000_PREFIX = semantic_link.JPEG2000 + "@"
#: Separates a system from the PHY code it is sent with: ``<system>:<code>``.
CODE_SEPARATOR = ":"


def split_code(system, default_code):
    """``(system, code)`` of a system name that may end in ``:<code>``; without it the code is
    ``default_code``.

    Raises:
        ValueError: the code after the separator is not a registered one.
    """
    base, separator, code = system.rpartition(CODE_SEPARATOR)
    if not separator:
        return system, default_code
    if code not in semantic_link.codes.list_codes():
        raise ValueError(f"system {system!r}: unknown PHY code {code!r}; choose one of "
                         f"{semantic_link.codes.list_codes()}")
    return base, code


def resolve_system(system, root="."):
    """``(model, jpeg2000_bytes)`` of a system name (see the module docstring).

    Args:
        system: the name.
        root: folder the shipped bundle paths are relative to.

    Raises:
        ValueError: an unknown name, or a JPEG2000 budget that is not a positive integer.
    """
    if system in BUNDLES:
        return os.path.join(root, BUNDLES[system]), 0
    if system == semantic_link.JPEG2000:
        return semantic_link.JPEG2000, 0
    if system.startswith(JPEG2000_PREFIX):
        budget = system[len(JPEG2000_PREFIX):]
        if not budget.isdigit() or int(budget) < 1:
            raise ValueError(f"system {system!r}: the JPEG2000 budget must be a positive byte count")
        return semantic_link.JPEG2000, int(budget)
    if os.path.isfile(os.path.join(system, "codec.json")):
        return system, 0
    raise ValueError(f"unknown system {system!r}: use one of {sorted(BUNDLES)}, "
                     f"{semantic_link.JPEG2000!r}, '{JPEG2000_PREFIX}<bytes>' or a bundle folder")


def record_fields(record):
    """A sink record's fields with the received PDU's metadata folded in (the record's
    own top-level fields win)."""
    return {**(record.get("meta") or {}), **record}


def link_figures(records, n_pairs, payload_bytes, channel_symbols):
    """The link's side of a point: sizes, losses, codeword CRC failures, SNR estimate.

    Args:
        records: the sink's records of received images.
        n_pairs: images sent.
        payload_bytes: the most PHY payload bytes of one image (frame header included).
        channel_symbols: channel symbols of a burst carrying ``payload_bytes``.

    Returns:
        dict with the :data:`~gnuradio.uoisc.apps.eval_store.LINK_KEYS`;
        ``codeword_failure_rate`` counts the codewords of received bursts only
        (a lost burst's codewords are unknown).
    """
    fields = [record_fields(r) for r in records]
    crc = [np.asarray(f.get("cw_crc_ok") or [], dtype=bool) for f in fields]
    codewords = int(sum(c.size for c in crc))
    failed = int(sum(int((~c).sum()) for c in crc))
    snr = [f["snr_est_db"] for f in fields if isinstance(f.get("snr_est_db"), (int, float))]
    return {
        "payload_bytes": int(payload_bytes), "bits_per_image": 8 * int(payload_bytes),
        "channel_symbols_per_image": int(channel_symbols),
        "n_received": len(records), "n_lost": n_pairs - len(records),
        "codewords": codewords, "codewords_failed": failed,
        "codeword_failure_rate": failed / codewords if codewords else None,
        "mean_snr_est_db": float(np.mean(snr)) if snr else None,
        "decode_status": dict(collections.Counter(str(f.get("decode_status")) for f in fields)),
    }


def reconstructions_by_pair(pairs, records, out_dir):
    """Each pair's received image (None when lost), found by the sink's ``image_id``.

    A record with an unknown or repeated image id (a corrupted ``seq`` in a PHY header
    can pair a reconstruction with the wrong original) is logged and not used.
    """
    wanted = {pair.image_id for pair in pairs}
    found = {}
    for record in records:
        image_id, png = record.get("image_id"), record.get("rx_png")
        if image_id not in wanted or image_id in found or not png:
            logger.warning("sink record %s/%s not used (unknown, repeated or without PNG)",
                           record.get("seq"), image_id)
            continue
        found[image_id] = read_image(os.path.join(out_dir, png))
    return [found.get(pair.image_id) for pair in pairs]


@dataclasses.dataclass
class LinkSettings:
    """How the flowgraph runs for a point.

    Attributes:
        root: repository root (where ``models/`` lives).
        code: LDPC code of the PHY.
        doppler: normalised Doppler (0 = one fade per burst).
        channel_seed: seed of the channel.
        providers: onnxruntime providers of the codec blocks.
        window: images in flight.
        settle_s: stop waiting for images after this long without an arrival.
    """

    root: str = "."
    code: str = semantic_link.codes.DEFAULT_CODE
    doppler: float = 0.0
    channel_seed: int = 0
    providers: str = "auto"
    window: int = 4
    settle_s: float = 3.0


def transmit(pairs, system, fading, esno_db, work_dir, settings=None):
    """Send ``pairs`` through the flowgraph once.

    Args:
        pairs: :class:`~gnuradio.uoisc.apps.eval_pairs.EvalPair` s, all of one image size.
        system: a system name (:func:`resolve_system`), optionally ``:<code>`` (:func:`split_code`).
        fading: "awgn" or "rayleigh".
        esno_db: Es/N0 of the channel in dB.
        work_dir: scratch folder for the pair images and the sink's output.
        settings: :class:`LinkSettings` (None = its defaults).

    Returns:
        ``(reconstructions, link)``: one uint8 image or None per pair, and
        :func:`link_figures`' dict plus ``elapsed_s`` and ``images_per_s``.
    """
    settings = settings or LinkSettings()
    system, code = split_code(system, settings.code)
    model, jpeg2000_bytes = resolve_system(system, settings.root)
    work_dir = pathlib.Path(work_dir)
    sidecar = write_pair_folder(pairs, work_dir / "pairs")
    config = semantic_link.SemanticLinkConfig(
        model=model, out_dir=str(work_dir / "link"), source=str(work_dir / "pairs"),
        queries=str(sidecar), n_images=len(pairs), seed=settings.channel_seed,
        image_size=int(pairs[0].image.shape[0]), esno_db=float(esno_db), fading=fading,
        doppler=settings.doppler, code=code, jpeg2000_bytes=jpeg2000_bytes,
        reference_model=os.path.join(settings.root, BUNDLES["uoisc"]), providers=settings.providers,
        window=settings.window, settle_s=settings.settle_s, write_png=True)
    result = semantic_link.run_semantic_link(config)
    payload = semantic_link.payload_bytes(config)
    link = link_figures(result["records"], len(pairs), payload,
                        semantic_link.burst_symbols(payload, code))
    link.update(elapsed_s=result["elapsed_s"], images_per_s=result["images_per_s"])
    return reconstructions_by_pair(pairs, result["records"], config.out_dir), link
