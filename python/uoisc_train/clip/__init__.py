"""CLIP side of the offline world: the ``uoisc-tiny-clip`` open_clip config,
frozen towers with per-layer features (:class:`ClipBackbone`) and the shipped
tiny weights (:func:`load_tiny_clip`).

Importing this package registers the project's configs with open_clip, so
``open_clip.create_model('uoisc-tiny-clip')`` works afterwards.
"""

from uoisc_train.clip.registry import TINY_CLIP_NAME, model_config, register_model_configs
from uoisc_train.artefact import ArtefactError
from uoisc_train.clip.backbone import ClipBackbone, WeightsUnavailableError
from uoisc_train.clip.tiny import load_tiny_clip, tiny_clip_dir

register_model_configs()

__all__ = ["TINY_CLIP_NAME", "model_config", "register_model_configs", "ArtefactError",
           "ClipBackbone", "WeightsUnavailableError", "load_tiny_clip", "tiny_clip_dir"]
