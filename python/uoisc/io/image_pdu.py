#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The image PDU: one H×W×3 uint8 image per message, with its metadata.

Layout (``docs/io.md``): ``pmt.cons(dict, u8vector)``; the payload is the image
in C order (row, column, channel); the dict holds ``height``, ``width`` and
``channels`` (always 3) plus whatever the producer knows (``image_id``,
``query``, ``seq``, ``index``, ...). Plain functions so the codec blocks, the
I/O blocks and the tests build and read images the same way.
"""

import numbers

import numpy as np

from ..phy.pdu_util import make_pdu, split_pdu

CHANNELS = 3
SHAPE_KEYS = ("height", "width", "channels")


def _to_pmt_friendly(value):
    """numpy scalars become Python scalars: ``pmt.to_pmt`` refuses ``np.int64`` & co."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_image(image):
    """Return ``image`` as a C-contiguous H×W×3 uint8 array.

    Raises:
        ValueError: not a numpy array, not uint8, not H×W×3 or empty.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != CHANNELS or image.size == 0:
        raise ValueError(f"image must be a non-empty H×W×{CHANNELS} array, got shape {image.shape}")
    return np.ascontiguousarray(image)


def image_pdu(image, **meta):
    """Image PDU from an H×W×3 uint8 image and metadata keywords.

    ``height``, ``width`` and ``channels`` are taken from the image; passing
    them is allowed only when they agree with it.

    Args:
        image: H×W×3 uint8 numpy array.
        **meta: metadata (str, int, float, bool, numpy scalars or arrays).

    Raises:
        ValueError: a bad image, or shape keywords that contradict it.
    """
    image = check_image(image)
    shape = dict(zip(SHAPE_KEYS, image.shape))
    for key, actual in shape.items():
        if key in meta and meta[key] != actual:
            raise ValueError(f"meta {key}={meta[key]!r} contradicts the image shape {image.shape}")
    fields = {key: _to_pmt_friendly(value) for key, value in meta.items()}
    fields.update(shape)
    return make_pdu(fields, image.reshape(-1))


def parse_image_pdu(msg):
    """Metadata dict and H×W×3 uint8 image of an image PDU.

    Raises:
        ValueError: not a u8 PDU, ``height``/``width``/``channels`` missing or
            not positive integers, ``channels`` not 3, or a payload whose
            length is not height × width × channels.
    """
    meta, payload = split_pdu(msg, "u8")
    dims = []
    for key in SHAPE_KEYS:
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"image PDU meta {key!r} must be a positive integer, got {value!r}")
        dims.append(int(value))
    height, width, channels = dims
    if channels != CHANNELS:
        raise ValueError(f"image PDU channels must be {CHANNELS}, got {channels}")
    if payload.size != height * width * channels:
        raise ValueError(f"image PDU payload has {payload.size} bytes, "
                         f"height×width×channels = {height}×{width}×{channels} needs "
                         f"{height * width * channels}")
    return meta, payload.astype(np.uint8, copy=False).reshape(height, width, channels)
