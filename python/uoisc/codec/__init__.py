#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Codec blocks: image PDUs <-> bits PDUs, one image per message.

Blocks: :class:`semantic_encoder` / :class:`semantic_decoder` (an exported
UO-ISC bundle through ``uoisc_runtime.codec``), :class:`vlf_encoder` /
:class:`vlf_decoder` (a VLF-MSC bundle through ``uoisc_runtime.vlf``: one
feature per image, a caption and a generated image at the receiver) and the
baseline pair :class:`jpeg2000_encoder` / :class:`jpeg2000_decoder`, with the
same input ports so any pair rides the same PHY. Plain modules usable without a flowgraph:
``link_meta`` (PDU metadata rules, CRC flags -> byte reliability) and
``jpeg2000_frames`` (JPEG2000 inside a codec frame, grey fallback).
"""

from .jpeg2000_decoder import jpeg2000_decoder
from .jpeg2000_encoder import jpeg2000_encoder
from .semantic_decoder import semantic_decoder
from .semantic_encoder import semantic_encoder
from .vlf_decoder import vlf_decoder
from .vlf_encoder import vlf_encoder
