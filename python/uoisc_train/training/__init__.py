"""Training of the UO-ISC codec (paper Section III): settings, data, checkpoints, the two-phase loop.

The command line is ``python -m uoisc_train.train`` (``uoisc_train/train.py``).
Modules: ``config`` (run settings and ``--set`` overrides), ``data`` (scene/question
batches), ``checkpoint`` (trainable state only, resume, loading a trained codec),
``trainer`` (Phase I and Phase II steps).
"""

from uoisc_train.training.config import TrainSettings, apply_overrides, split_overrides
from uoisc_train.training.data import SceneQuestionBatches
from uoisc_train.training.checkpoint import (backbone_fingerprint, codec_state, load_codec,
                                             build_codec)
from uoisc_train.training.trainer import Trainer

__all__ = ["TrainSettings", "apply_overrides", "split_overrides", "SceneQuestionBatches",
           "backbone_fingerprint", "codec_state", "load_codec", "build_codec", "Trainer"]
