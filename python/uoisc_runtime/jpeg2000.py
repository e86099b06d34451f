"""JPEG2000 (Pillow/OpenJPEG) at a byte budget matched to a symbol budget: the paper's baseline (c).

The codestream is a raw J2K stream (``no_jp2=True``: no JP2 boxes, which would
cost ~80 bytes of a budget of a few hundred). Pillow's ``quality_mode="rates"``
takes the compression ratio of one quality layer; the encoder meets it only
approximately (headers, rate-control granularity), so :func:`encode_jpeg2000`
searches the ratio by bisection for the *largest* codestream of at most
``max_bytes`` bytes. Decoding a codestream corrupted by the channel either
works (possibly with artefacts), or raises :class:`Jpeg2000DecodeError`;
:func:`decode_or_grey` turns that into a mid-grey image for a running link.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["Jpeg2000DecodeError", "Jpeg2000Result", "bytes_for_symbols", "encode_jpeg2000",
           "decode_jpeg2000", "decode_or_grey"]

_log = logging.getLogger(__name__)

#: Largest compression ratio tried; beyond it OpenJPEG sends little more than headers.
MAX_RATIO = 2000.0
_BISECTION_STEPS = 24


class Jpeg2000DecodeError(ValueError):
    """The bytes are not a decodable JPEG2000 codestream of the expected size."""


@dataclass(frozen=True)
class Jpeg2000Result:
    """An encoded image: the codestream and the compression ratio that produced it."""

    data: bytes
    ratio: float

    @property
    def n_bytes(self) -> int:
        return len(self.data)


def bytes_for_symbols(n_symbols: int, bits_per_symbol: int = 3, code_rate: float = 1.0) -> int:
    """Payload bytes that fit in ``n_symbols`` channel symbols.

    Args:
        n_symbols: modulated symbols available for one image.
        bits_per_symbol: 3 for the project's 8-PSK.
        code_rate: channel code rate (information bits per coded bit), e.g. 0.5 for LDPC r=1/2.

    Returns:
        ``floor(n_symbols * bits_per_symbol * code_rate / 8)``.
    """
    if n_symbols < 0 or bits_per_symbol < 1 or not 0 < code_rate <= 1:
        raise ValueError(f"n_symbols={n_symbols}, bits_per_symbol={bits_per_symbol}, "
                         f"code_rate={code_rate}: need n_symbols >= 0, bits >= 1, 0 < rate <= 1")
    return math.floor(n_symbols * bits_per_symbol * code_rate / 8)


def _check_image(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image of dtype {image.dtype} and shape {image.shape}; "
                         "expected H x W x 3 uint8")


def _encode(image: Image.Image, ratio: float) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG2000", no_jp2=True, irreversible=True,
               quality_mode="rates", quality_layers=[ratio])
    return buffer.getvalue()


def encode_jpeg2000(image: np.ndarray, max_bytes: int) -> Jpeg2000Result:
    """The best JPEG2000 codestream of ``image`` that fits in ``max_bytes`` bytes.

    Args:
        image: ``H x W x 3`` uint8.
        max_bytes: byte budget (see :func:`bytes_for_symbols`).

    Raises:
        ValueError: bad image, or a budget below the smallest codestream
            (headers alone), naming both sizes.
    """
    _check_image(image)
    if max_bytes < 1:
        raise ValueError(f"max_bytes={max_bytes!r} must be >= 1")
    pil = Image.fromarray(image)
    raw_bytes = image.size
    # Ratio 1 = lossless size; the answer lies between the nominal ratio and MAX_RATIO.
    low, high = max(1.0, raw_bytes / max_bytes), MAX_RATIO
    smallest = _encode(pil, high)
    if len(smallest) > max_bytes:
        raise ValueError(f"max_bytes={max_bytes} is below the smallest JPEG2000 codestream of "
                         f"this image ({len(smallest)} bytes)")
    best = Jpeg2000Result(smallest, high)
    first = _encode(pil, low)
    if len(first) <= max_bytes:
        return Jpeg2000Result(first, low)
    # Bisection on log(ratio): keep the largest stream that fits.
    for _ in range(_BISECTION_STEPS):
        middle = math.sqrt(low * high)
        data = _encode(pil, middle)
        if len(data) <= max_bytes:
            high = middle
            if len(data) > best.n_bytes:
                best = Jpeg2000Result(data, middle)
        else:
            low = middle
        if high / low < 1.001:
            break
    return best


def decode_jpeg2000(data: bytes, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode a codestream to ``H x W x 3`` uint8.

    Args:
        data: the (possibly corrupted) codestream.
        size: expected ``(height, width)``; another size raises.

    Raises:
        Jpeg2000DecodeError: anything that prevents a clean decode, with the reason.
    """
    try:
        with Image.open(io.BytesIO(bytes(data)), formats=["JPEG2000"]) as opened:
            # A corrupted header can declare any size: refuse before decoding pixels.
            if size is not None and (opened.height, opened.width) != tuple(size):
                raise Jpeg2000DecodeError(f"codestream declares {opened.height}x{opened.width}, "
                                          f"expected {size[0]}x{size[1]}")
            opened.load()
            return np.asarray(opened.convert("RGB"))
    except Jpeg2000DecodeError:
        raise
    except Exception as error:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError, ...
        raise Jpeg2000DecodeError(f"cannot decode {len(data)} JPEG2000 bytes: "
                                  f"{type(error).__name__}: {error}") from error


def decode_or_grey(data: bytes, size: tuple[int, int]) -> tuple[np.ndarray, bool]:
    """Decode, or return a mid-grey image when the codestream is undecodable.

    Returns:
        ``(image H x W x 3 uint8, ok)``; ``ok`` is False for the grey fallback
        (the reason is logged at warning level).
    """
    try:
        return decode_jpeg2000(data, size), True
    except Jpeg2000DecodeError as error:
        _log.warning("JPEG2000 baseline: %s; substituting a grey image", error)
        return np.full((*size, 3), 128, dtype=np.uint8), False
