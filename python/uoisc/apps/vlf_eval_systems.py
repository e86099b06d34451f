#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The systems ``uoisc-vlf-eval`` compares, by name, and the text payloads of the text-only baseline.

- ``vlf``: one VLF-MSC codec frame per scene (the VLF bundle's payload); the
  receiver makes both a caption and an image from it.
- ``caption-utf8``: the scene's ground-truth caption as UTF-8 bytes, the whole
  sentence (85–224 bytes in this world: one to three LDPC codewords).
- ``caption-utf8@<bytes>``: the same sentence cut after ``<bytes>`` bytes;
  ``caption-utf8@vlf`` cuts at the VLF frame's payload bytes (equal channel symbols).
- ``jpeg2000@<bytes>``: the image-only JPEG2000 baseline of issue 6 with a
  codestream budget, through the same semantic-link flowgraph (``eval_link``).

A text receiver takes the bytes as the PHY delivered them, failed codewords
included (hard decisions): it has nothing better to show, and the caption
parser reads a garbled sentence as far as it goes.
"""

import dataclasses

from gnuradio.uoisc.apps import eval_link

VLF = "vlf"
CAPTION = "caption-utf8"
CAPTION_PREFIX = CAPTION + "@"
#: ``caption-utf8@vlf``: cut at the VLF frame's payload bytes.
VLF_BUDGET = "vlf"
#: PHY header payload type of caption frames. Not a registered name (``phy.framing.PAYLOAD_TYPES``):
#: nothing downstream dispatches on it here, the receiver is this harness.
TEXT_PAYLOAD_TYPE = 3

#: System kinds: what a system sends and what its receiver gives back.
KIND_VLF, KIND_TEXT, KIND_IMAGE = "vlf", "text", "image"


@dataclasses.dataclass(frozen=True)
class SystemSpec:
    """A resolved system name.

    Attributes:
        name: the name given on the command line.
        kind: :data:`KIND_VLF` (caption + image), :data:`KIND_TEXT` (caption) or
            :data:`KIND_IMAGE` (image).
        max_bytes: caption cut (text) or JPEG2000 codestream budget (image); 0 = none.
    """

    name: str
    kind: str
    max_bytes: int = 0

    @property
    def has_text(self):
        return self.kind in (KIND_VLF, KIND_TEXT)

    @property
    def has_image(self):
        return self.kind in (KIND_VLF, KIND_IMAGE)


def _budget(name, budget, vlf_payload_bytes):
    if budget == VLF_BUDGET and vlf_payload_bytes:
        return int(vlf_payload_bytes)
    if not budget.isdigit() or int(budget) < 1:
        raise ValueError(f"system {name!r}: the budget must be a positive byte count"
                         + (f" or {VLF_BUDGET!r}" if vlf_payload_bytes else ""))
    return int(budget)


def resolve_system(name, vlf_payload_bytes=None):
    """The :class:`SystemSpec` of a system name (see the module docstring).

    Args:
        name: the system name.
        vlf_payload_bytes: the VLF frame's payload bytes (resolves ``caption-utf8@vlf``);
            None refuses that alias.

    Raises:
        ValueError: an unknown name, or a budget that is not a positive byte count.
    """
    if name == VLF:
        return SystemSpec(name, KIND_VLF)
    if name == CAPTION:
        return SystemSpec(name, KIND_TEXT)
    if name.startswith(CAPTION_PREFIX):
        return SystemSpec(name, KIND_TEXT, _budget(name, name[len(CAPTION_PREFIX):], vlf_payload_bytes))
    if name.startswith(eval_link.JPEG2000_PREFIX):
        _, budget = eval_link.resolve_system(name)
        return SystemSpec(name, KIND_IMAGE, budget)
    raise ValueError(f"unknown system {name!r}: use {VLF!r}, {CAPTION!r}, '{CAPTION_PREFIX}<bytes>', "
                     f"'{CAPTION_PREFIX}{VLF_BUDGET}' or '{eval_link.JPEG2000_PREFIX}<bytes>'")


def caption_payload(caption, max_bytes=0):
    """The caption as UTF-8 bytes, cut after ``max_bytes`` bytes (0 = whole).

    Raises:
        ValueError: an empty caption (the PHY sends no empty payload) or a negative budget.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, got {max_bytes!r}")
    data = caption.encode("utf-8")
    if not data:
        raise ValueError("empty caption: nothing to send")
    return data[:max_bytes] if max_bytes else data


def received_caption(data):
    """Text of received caption bytes: invalid UTF-8 becomes U+FFFD, padding NULs are dropped."""
    return bytes(data).decode("utf-8", errors="replace").rstrip("\0")
