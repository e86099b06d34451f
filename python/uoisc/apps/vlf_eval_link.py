#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""One ``uoisc-vlf-eval`` point through the real PHY: payloads out, what arrived back by seq.

VLF frames and caption bytes go through
:func:`gnuradio.uoisc.phy.link_sim.transmit_payloads` (phy_tx -> fading channel
-> phy_rx with estimated CSI, the same blocks as every other link of the
project); the receivers run here on what phy_rx delivered: the VLF codec's
``receive`` (per-byte reliability from the codeword CRCs, exactly as the
``vlf_decoder`` block gets it), then one batched ``caption`` and ``generate``
call; the caption receiver decodes the bytes as text. JPEG2000 rides issue 6's
semantic-link flowgraph (:func:`gnuradio.uoisc.apps.eval_link.transmit`).
Nothing here models the channel.
"""

import dataclasses
import logging
import time

import numpy as np

from gnuradio.uoisc.apps import eval_link, semantic_link, vlf_eval_systems
from gnuradio.uoisc.codec.link_meta import byte_reliability, semantic_decode_status
from gnuradio.uoisc.phy import link_sim

logger = logging.getLogger(__name__)

#: decode_status of a VLF frame the codec refused (wrong length, another codec's header).
REFUSED = "refused"


@dataclasses.dataclass(frozen=True)
class GenerationSettings:
    """How the VLF receiver generates images (the ``vlf_decoder`` block's parameters).

    Attributes:
        steps: DDIM steps.
        guidance: classifier-free guidance scale.
        seed: the image of frame ``seq`` starts from ``x_T`` of seed ``seed + seq``.
        batch: features generated at once.
    """

    steps: int = 10
    guidance: float = 3.0
    seed: int = 0
    batch: int = 32


def _send(payloads, payload_type, fading, esno_db, settings):
    """The :class:`~gnuradio.uoisc.phy.link_sim.LinkRun` of one PHY run over ``payloads``
    (frames with a seq that was never sent are logged and dropped)."""
    config = link_sim.LinkConfig(esno_db=float(esno_db), fading=fading, code=settings.code,
                                 doppler=settings.doppler, seed=settings.channel_seed,
                                 settle_s=settings.settle_s, measure_pre_ber=False)
    run = link_sim.transmit_payloads(config, payloads, payload_type)
    strays = [seq for seq in run.delivered if seq >= len(payloads)]
    for seq in strays:
        logger.warning("frame with seq %d (only %d sent) not used", seq, len(payloads))
        del run.delivered[seq]
    return run


def link_summary(payloads, run, statuses, code):
    """The link's side of a point (``eval_link.link_figures``' keys, with its largest payload),
    plus the mean payload bytes and channel symbols of variable-length payloads and the time.

    Args:
        payloads: the payloads sent.
        run: the :class:`~gnuradio.uoisc.phy.link_sim.LinkRun`.
        statuses: seq -> decode status of each delivered frame.
        code: LDPC code name.
    """
    # link_figures reads the image sink's JSON records, where the CRC flags are a list.
    records = [{"meta": {**meta, "cw_crc_ok": np.atleast_1d(meta.get("cw_crc_ok", [])).tolist()},
                "decode_status": statuses[seq]} for seq, (meta, _) in sorted(run.delivered.items())]
    sizes = [len(p) for p in payloads]
    link = eval_link.link_figures(records, len(payloads), max(sizes),
                                  semantic_link.burst_symbols(max(sizes), code))
    link.update(mean_payload_bytes=float(np.mean(sizes)),
                mean_channel_symbols_per_image=float(np.mean([semantic_link.burst_symbols(s, code)
                                                             for s in sizes])),
                elapsed_s=run.elapsed_s)
    return link


def transmit_captions(captions, max_bytes, fading, esno_db, settings):
    """Send captions as UTF-8 (cut after ``max_bytes``, 0 = whole) through the PHY.

    Args:
        captions: one caption per pair.
        max_bytes: byte cut of each caption.
        fading, esno_db: the channel.
        settings: :class:`~gnuradio.uoisc.apps.eval_link.LinkSettings`.

    Returns:
        ``(received, link)``: the received text per pair (None when lost) and :func:`link_summary`.
    """
    payloads = [vlf_eval_systems.caption_payload(c, max_bytes) for c in captions]
    run = _send(payloads, vlf_eval_systems.TEXT_PAYLOAD_TYPE, fading, esno_db, settings)
    received, statuses = [None] * len(payloads), {}
    for seq, (meta, data) in run.delivered.items():
        received[seq] = vlf_eval_systems.received_caption(data)
        statuses[seq] = "ok" if byte_reliability(meta, len(data)) is None else "crc_failed"
    return received, link_summary(payloads, run, statuses, settings.code)


def receive_frame(codec, meta, data):
    """``(VlfReceived or None, decode status)`` of one delivered VLF frame."""
    try:
        received = codec.receive(data.tobytes(), byte_reliability(meta, len(data)))
    except ValueError as error:  # the runtime's CodecError, or CRC flags that do not fit the payload
        logger.warning("VLF frame seq %s refused: %s", meta.get("seq"), error)
        return None, REFUSED
    return received, semantic_decode_status(received.header_trusted, received.n_erased)


def transmit_vlf(pairs, codec, fading, esno_db, settings, generation=GenerationSettings()):
    """Send each pair's image as one VLF frame through the PHY and run both receivers.

    Args:
        pairs: :class:`~gnuradio.uoisc.apps.eval_pairs.EvalPair` s.
        codec: a ``uoisc_runtime.VlfCodec`` (its questions are sent when it ``needs_query``).
        fading, esno_db: the channel.
        settings: :class:`~gnuradio.uoisc.apps.eval_link.LinkSettings`.
        generation: :class:`GenerationSettings`.

    Returns:
        ``(captions, images, link)``: per pair the caption and the generated H×W×3 uint8
        image (both None when the frame was lost or refused), and :func:`link_summary`
        with ``n_erased_indices``, ``n_folded_indices`` (sums over the received frames)
        and ``receiver_s`` (time spent captioning and generating).
    """
    frames = [codec.encode(p.image, p.question if codec.needs_query else None) for p in pairs]
    run = _send(frames, "vlf", fading, esno_db, settings)
    statuses, features, seqs, erased, folded = {}, [], [], 0, 0
    for seq, (meta, data) in sorted(run.delivered.items()):
        received, statuses[seq] = receive_frame(codec, meta, data)
        if received is not None:
            features.append(received.feature)
            seqs.append(seq)
            erased += int(received.n_erased)
            folded += int(received.n_folded)
    captions, images = [None] * len(pairs), [None] * len(pairs)
    start = time.monotonic()
    for first in range(0, len(seqs), generation.batch):
        chunk = seqs[first:first + generation.batch]
        batch = np.stack(features[first:first + generation.batch])
        texts = codec.caption(batch)
        generated = codec.generate(batch, seeds=[generation.seed + seq for seq in chunk],
                                   steps=generation.steps, guidance=generation.guidance)
        for seq, text, image in zip(chunk, texts, generated):
            captions[seq], images[seq] = text, image
    link = link_summary(frames, run, statuses, settings.code)
    link.update(n_erased_indices=erased, n_folded_indices=folded, receiver_s=time.monotonic() - start)
    return captions, images, link
