"""The paper's baselines (Section IV): two neural variants of UO-ISC and JPEG2000.

- ``neural``: (a) no text alignment and (b) no pretrained VLM, as config overrides
  of the same codec and trainer;
- ``jpeg2000``: Pillow/OpenJPEG at a byte budget matched to a symbol budget.
"""

from uoisc_train.baselines.neural import BASELINES, baseline_overrides
from uoisc_train.baselines.jpeg2000 import (Jpeg2000DecodeError, Jpeg2000Result, bytes_for_symbols,
                                            decode_jpeg2000, decode_or_grey, encode_jpeg2000)

__all__ = ["BASELINES", "baseline_overrides", "Jpeg2000DecodeError", "Jpeg2000Result",
           "bytes_for_symbols", "encode_jpeg2000", "decode_jpeg2000", "decode_or_grey"]
