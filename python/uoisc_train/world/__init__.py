"""The offline world: procedural scenes, VQA triples, splits and torch datasets.

No pretrained weights or datasets can be downloaded where gr-uoisc is built, so
the project generates its own small, reproducible world (``docs/offline-world.md``).
Generation needs only numpy and Pillow; the datasets need torch.
"""

from .backgrounds import BACKGROUNDS
from .datasets import SceneCaptionDataset, SceneVQADataset
from .layout import MIN_VISIBLE_FRACTION, POSITION_DEAD_ZONE, SceneObject, position_answer
from .scenes import Scene, generate_scene
from .shapes import object_mask, shape_mask
from .splits import ALL_SPLITS, PRETRAIN_SPLIT, SPLITS, question_families, scene_seed
from .vocabulary import (ANSWERS, COLOUR_RGB, COLOURS, FAMILIES, GENERATOR_VERSION,
                         HELD_OUT_FAMILY, QUESTION_KINDS, SHAPES, SIZES, answer_index)
from .vqa import QA

__all__ = [
    "ALL_SPLITS", "ANSWERS", "BACKGROUNDS", "COLOUR_RGB", "COLOURS", "FAMILIES",
    "GENERATOR_VERSION", "HELD_OUT_FAMILY", "MIN_VISIBLE_FRACTION", "POSITION_DEAD_ZONE",
    "PRETRAIN_SPLIT", "QA", "QUESTION_KINDS", "SHAPES", "SIZES", "SPLITS", "Scene",
    "SceneCaptionDataset", "SceneObject", "SceneVQADataset", "answer_index", "generate_scene",
    "object_mask", "position_answer", "question_families", "scene_seed", "shape_mask",
]
