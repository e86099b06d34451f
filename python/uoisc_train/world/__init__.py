"""The offline world: procedural scenes, VQA triples, splits and torch datasets.

No pretrained weights or datasets can be downloaded where gr-uoisc is built, so
the project generates its own small, reproducible world (``docs/offline-world.md``).
Generation needs only numpy and Pillow; the datasets need torch, so they are
imported lazily (PEP 562): ``from uoisc_train.world import generate_scene`` does
not import torch (the GNU Radio image source relies on it).
"""

from .backgrounds import BACKGROUNDS
from .layout import MIN_VISIBLE_FRACTION, POSITION_DEAD_ZONE, SceneObject, position_answer
from .scenes import Scene, generate_scene
from .shapes import object_mask, shape_mask
from .splits import ALL_SPLITS, PRETRAIN_SPLIT, SPLITS, question_families, scene_seed
from .vocabulary import (ANSWERS, COLOUR_RGB, COLOURS, FAMILIES, GENERATOR_VERSION,
                         HELD_OUT_FAMILY, QUESTION_KINDS, SHAPES, SIZES, answer_index)
from .vqa import QA

# Names served by __getattr__ below, from the module that needs torch.
_TORCH_DATASETS = {"SceneCaptionDataset", "SceneVQADataset"}

__all__ = [
    "ALL_SPLITS", "ANSWERS", "BACKGROUNDS", "COLOUR_RGB", "COLOURS", "FAMILIES",
    "GENERATOR_VERSION", "HELD_OUT_FAMILY", "MIN_VISIBLE_FRACTION", "POSITION_DEAD_ZONE",
    "PRETRAIN_SPLIT", "QA", "QUESTION_KINDS", "SHAPES", "SIZES", "SPLITS", "Scene",
    "SceneCaptionDataset", "SceneObject", "SceneVQADataset", "answer_index", "generate_scene",
    "object_mask", "position_answer", "question_families", "scene_seed", "shape_mask",
]


def __getattr__(name):
    if name in _TORCH_DATASETS:
        from . import datasets  # imports torch on first use only

        return getattr(datasets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
