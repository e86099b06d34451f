"""VQA triples about one specific object of a scene, with a closed answer vocabulary.

Every scene gets exactly one question of each kind in
:data:`~uoisc_train.world.vocabulary.QUESTION_KINDS`, always about shapes of the
split's question families (the held-out family in ``test_zeroshot``):

- ``colour`` "What colour is the X?" and ``size`` "What size is the X?": X occurs once.
- ``position`` "Where is the X?": X occurs once and its centre is outside the
  dead zone (see :func:`~uoisc_train.world.layout.position_answer`).
- ``exists`` "Is there a X?": a present or an absent shape, each with probability 1/2.
- ``count`` "How many Xs are there?": the answer is drawn first: the scene's
  repeated group (2..4 copies), when it has one, with probability
  :data:`REPEATED_COUNT_PROBABILITY`, else "0" (an absent shape) or "1"
  with equal chances; then a shape with that count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .layout import SceneObject, position_answer
from .splits import question_families
from .vocabulary import FAMILIES, PLURALS

REPEATED_COUNT_PROBABILITY = 0.5


@dataclass(frozen=True)
class QA:
    """One VQA triple.

    Attributes:
        question: the English question.
        answer: a member of :data:`~uoisc_train.world.vocabulary.ANSWERS`.
        kind: a member of :data:`~uoisc_train.world.vocabulary.QUESTION_KINDS`.
        target_shape: the shape the question is about.
        target_objects: indices (in the scene's object list) of the objects the
            answer depends on; empty when the shape is absent.
    """

    question: str
    answer: str
    kind: str
    target_shape: str
    target_objects: tuple[int, ...] = ()


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def make_questions(objects: list[SceneObject], split: str, rng: np.random.Generator) -> list[QA]:
    """One question of each kind about ``objects``, in ``QUESTION_KINDS`` order.

    Raises:
        ValueError: the objects hold no unique question-family shape with an
            unambiguous position (``layout.compose``/``place`` always provide one).
    """
    asked = [s for family in question_families(split) for s in FAMILIES[family]]
    counts = Counter(obj.shape for obj in objects)
    unique = [i for i, obj in enumerate(objects) if obj.shape in asked and counts[obj.shape] == 1]
    placeable = [i for i in unique if position_answer(objects[i].cx, objects[i].cy) is not None]
    if not placeable:
        raise ValueError(f"no unique, unambiguously placed object to ask about in {objects}")
    present = sorted({obj.shape for obj in objects if obj.shape in asked})
    absent = [s for s in asked if s not in counts]

    def about(i: int) -> tuple[str, tuple[int, ...]]:
        return objects[i].shape, (i,)

    shape, target = about(_pick(rng, unique))
    colour = QA(f"What colour is the {shape}?", objects[target[0]].colour, "colour", shape, target)

    ask_present = rng.random() < 0.5 or not absent
    shape = _pick(rng, present if ask_present else absent)
    exists = QA(f"Is there a {shape}?", "yes" if ask_present else "no", "exists", shape,
                tuple(i for i, obj in enumerate(objects) if obj.shape == shape))

    # Answer first, so that the frequent "1" does not swamp "0" and the rarer
    # repeated groups (a scene holds at most one group of 2+).
    by_count: dict[int, list[str]] = {}
    for s in present + absent:
        by_count.setdefault(counts[s], []).append(s)
    group = max(by_count)
    if group >= 2 and rng.random() < REPEATED_COUNT_PROBABILITY:
        answer_count = group
    else:
        answer_count = _pick(rng, sorted(c for c in by_count if c < 2))
    shape = _pick(rng, by_count[answer_count])
    count = QA(f"How many {PLURALS[shape]} are there?", str(counts[shape]), "count", shape,
               tuple(i for i, obj in enumerate(objects) if obj.shape == shape))

    shape, target = about(_pick(rng, placeable))
    where = position_answer(objects[target[0]].cx, objects[target[0]].cy)
    position = QA(f"Where is the {shape}?", where, "position", shape, target)

    shape, target = about(_pick(rng, unique))
    size = QA(f"What size is the {shape}?", objects[target[0]].size, "size", shape, target)
    return [colour, exists, count, position, size]
