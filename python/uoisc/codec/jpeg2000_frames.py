#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""JPEG2000 baseline inside a codec frame (plain Python, no GNU Radio).

The codestream rides in the same 8-byte codec frame as the semantic codec's
indices (kind "jpeg2000", fingerprint zeros: no model), so one PHY payload
format serves both. The receiver never fails to produce an image: a
codestream that cannot be decoded becomes a mid-grey image, as a real
receiver would have to show something.
"""

import dataclasses
import io

import numpy as np
from PIL import Image

from uoisc_runtime import frame
from uoisc_runtime.jpeg2000 import Jpeg2000DecodeError, decode_jpeg2000, encode_jpeg2000

KIND = "jpeg2000"
#: JPEG2000 has no model; its frames carry this fingerprint.
NO_MODEL = bytes(frame.FINGERPRINT_BYTES)
#: A corrupted SIZ marker may declare any size: larger images are refused before decoding.
MAX_SIDE = 4096
GREY = 128


def encode_frame(image, max_bytes):
    """Codec frame: header + the largest codestream of at most ``max_bytes`` bytes.

    Args:
        image: H×W×3 uint8.
        max_bytes: codestream budget, the header's 8 bytes not included (1536 gives
            the same PHY payload as a bundle of 12288 bits per image).

    Returns:
        (frame bytes, compression ratio used)

    Raises:
        ValueError: a bad image, or a budget below the image's smallest codestream.
    """
    result = encode_jpeg2000(image, max_bytes)
    return frame.build_frame(KIND, NO_MODEL, result.data), result.ratio


@dataclasses.dataclass(frozen=True)
class Jpeg2000Decode:
    """Outcome of :func:`decode_frame`.

    Attributes:
        image: H×W×3 uint8 (mid-grey when the codestream was undecodable).
        status: "ok" (decoded, every byte reliable), "damaged" (decoded although
            some bytes failed their CRC) or "grey" (undecodable: fallback image).
        header_trusted: False when the codec header's bytes failed their CRC (the
            body is then tried without checking the header).
        reason: why the image is grey ("" otherwise).
    """

    image: np.ndarray
    status: str
    header_trusted: bool
    reason: str = ""


def _declared_size(codestream):
    """(height, width) from the codestream's SIZ marker, without decoding pixels."""
    try:
        with Image.open(io.BytesIO(codestream), formats=["JPEG2000"]) as opened:
            height, width = opened.height, opened.width
    except Exception as error:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError, ...
        raise Jpeg2000DecodeError(f"no readable JPEG2000 header: {type(error).__name__}: {error}") from error
    if not (0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
        raise Jpeg2000DecodeError(f"codestream declares {height}x{width}, beyond {MAX_SIDE}x{MAX_SIDE}")
    return height, width


def _body(data, header_trusted):
    if not header_trusted:
        return data[frame.HEADER_BYTES:]
    parsed = frame.parse_frame(data)
    if parsed.kind != KIND:
        raise frame.FrameError(f"codec frame kind {parsed.kind!r} is not {KIND!r}")
    return parsed.body


def decode_frame(data, byte_ok=None, fallback_size=64):
    """Decode a received JPEG2000 codec frame, or fall back to grey.

    Args:
        data: the received payload bytes.
        byte_ok: one bool per byte (False = its codeword failed the CRC), or None
            when every byte is reliable.
        fallback_size: side of the grey image when nothing can be decoded.

    Returns:
        :class:`Jpeg2000Decode`.
    """
    data = bytes(data)
    header_trusted = byte_ok is None or bool(np.all(byte_ok[:frame.HEADER_BYTES]))
    try:
        codestream = _body(data, header_trusted)
        image = decode_jpeg2000(codestream, _declared_size(codestream))
    except (frame.FrameError, Jpeg2000DecodeError) as error:
        grey = np.full((fallback_size, fallback_size, 3), GREY, dtype=np.uint8)
        return Jpeg2000Decode(grey, "grey", header_trusted, str(error))
    status = "ok" if byte_ok is None or np.all(byte_ok) else "damaged"
    return Jpeg2000Decode(np.ascontiguousarray(image), status, header_trusted)
