#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""JPEG2000 baseline encoder block: image PDU -> bits PDU (codec frame)."""

import numbers

import numpy as np

from ..io.image_pdu import parse_image_pdu
from ..phy.pdu_util import make_pdu
from . import jpeg2000_frames, link_meta
from .pdu_block import pdu_block


class jpeg2000_encoder(pdu_block):
    """Encode each image PDU to the largest JPEG2000 codestream within a byte budget.

    Output PDU: the codec frame (8-byte header, kind "jpeg2000", + raw J2K
    codestream of at most ``max_bytes``) with the image's ``seq``, ``image_id``, ``query``, ``index`` and
    ``payload_type="jpeg2000"``, ``model_id="jpeg2000"``, ``codec_kind="jpeg2000"``,
    ``n_indices=0``, ``bits_per_index=0`` (no indices), ``n_bits`` (8 × payload
    bytes), ``compression_ratio``. Images that cannot meet the budget, and bad
    PDUs, are dropped with a logged error.

    Args:
        max_bytes: codestream budget in bytes, the 8-byte codec header not
            included: the default 1536 (12288 bits) gives the same PHY payload
            as the shipped tiny bundles, for a comparison at equal bits.
    """

    def __init__(self, max_bytes=1536):
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral) or max_bytes < 1:
            raise ValueError(f"max_bytes {max_bytes!r} must be a positive integer")
        pdu_block.__init__(self, "jpeg2000_encoder")
        self.max_bytes = int(max_bytes)

    def transform(self, msg):
        meta, image = parse_image_pdu(msg)
        data, ratio = jpeg2000_frames.encode_frame(image, self.max_bytes)
        out_meta = link_meta.bits_meta(
            meta, payload_type="jpeg2000", model_id=jpeg2000_frames.KIND, codec_kind=jpeg2000_frames.KIND,
            n_indices=0, bits_per_index=0, n_bits=8 * len(data), compression_ratio=float(ratio))
        return make_pdu(out_meta, np.frombuffer(data, dtype=np.uint8))
