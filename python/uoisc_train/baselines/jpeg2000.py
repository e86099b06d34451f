"""Baseline (c), JPEG2000: lives in the runtime (``uoisc_runtime.jpeg2000``) because the GNU Radio
blocks use it too; re-exported here so the training side's imports keep working."""

from uoisc_runtime.jpeg2000 import (MAX_RATIO, Jpeg2000DecodeError, Jpeg2000Result,
                                    bytes_for_symbols, decode_jpeg2000, decode_or_grey,
                                    encode_jpeg2000)

__all__ = ["MAX_RATIO", "Jpeg2000DecodeError", "Jpeg2000Result", "bytes_for_symbols",
           "encode_jpeg2000", "decode_jpeg2000", "decode_or_grey"]
