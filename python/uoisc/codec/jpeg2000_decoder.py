#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""JPEG2000 baseline decoder block: PHY output PDU -> image PDU (grey when undecodable)."""

import numbers

from ..io.image_pdu import image_pdu
from ..phy.pdu_util import split_pdu
from . import jpeg2000_frames, link_meta
from .pdu_block import pdu_block


class jpeg2000_decoder(pdu_block):
    """Decode received JPEG2000 codec frames; every payload gives an image.

    A codestream that cannot be decoded (garbage, a frame of another kind, a
    header corrupted by the channel) gives a mid-grey ``fallback_size`` square
    image with ``decode_status="grey"`` and a logged warning, so the receiver
    still accounts for the image. Output meta: the PHY meta, plus
    ``model_id="jpeg2000"``, ``header_trusted``, ``decode_status`` ("ok",
    "damaged": decoded although some codewords failed their CRC, "grey"),
    ``image_id``/``query`` ("" unless the input had them). Not a u8 PDU, a
    PHY payload_type other than "jpeg2000", an empty payload or bad CRC
    metadata: logged drop.

    Args:
        fallback_size: side in pixels of the grey image.
    """

    def __init__(self, fallback_size=64):
        if isinstance(fallback_size, bool) or not isinstance(fallback_size, numbers.Integral) \
                or not 1 <= fallback_size <= jpeg2000_frames.MAX_SIDE:
            raise ValueError(f"fallback_size {fallback_size!r} must be an integer in "
                             f"1..{jpeg2000_frames.MAX_SIDE}")
        pdu_block.__init__(self, "jpeg2000_decoder")
        self.fallback_size = int(fallback_size)

    def transform(self, msg):
        meta, payload = split_pdu(msg, "u8")
        link_meta.check_payload_type(meta, "jpeg2000")
        if payload.size == 0:
            raise ValueError("empty payload")
        byte_ok = link_meta.byte_reliability(meta, payload.size)
        result = jpeg2000_frames.decode_frame(payload.tobytes(), byte_ok, self.fallback_size)
        if result.status == "grey":
            self.logger.warn(f"seq {meta.get('seq')}: grey image ({result.reason})")
        out_meta = link_meta.decoded_meta(meta, model_id=jpeg2000_frames.KIND,
                                          header_trusted=result.header_trusted, decode_status=result.status)
        return image_pdu(result.image, **out_meta)
