"""VLF-MSC: one vision-language feature over the air, a caption and an image from it.

Transmitter (``config``, ``quantizers``, ``transmitter``, ``export``) and text receiver
(``caption_vocab``, ``caption``, ``caption_metrics``, ``train_caption``; the GPT-2 path
in ``caption_gpt2`` is imported on its own because it needs transformers).
See ``docs/vlf.md``.
"""

from uoisc_train.vlf.config import QUANTIZERS, VlfConfig
from uoisc_train.vlf.quantizers import ScalarQuantizer, fit_codebooks
from uoisc_train.vlf.transmitter import VlfTransmitter

__all__ = ["QUANTIZERS", "VlfConfig", "ScalarQuantizer", "fit_codebooks", "VlfTransmitter"]
