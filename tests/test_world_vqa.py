"""Property tests of the VQA triples: every answer is true of the scene's object list.

The oracle below recomputes each answer from the objects alone (shape counts,
the dead-zone rule written out again), independently of ``uoisc_train.world.vqa``.
"""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uoisc_train.world import (ALL_SPLITS, ANSWERS, FAMILIES, HELD_OUT_FAMILY, POSITION_DEAD_ZONE,
                               QUESTION_KINDS, answer_index, generate_scene, question_families)

seeds = st.integers(min_value=0, max_value=2**48)
few = settings(max_examples=60, deadline=None)


def _oracle_position(cx, cy):
    horizontal, vertical = cx - 0.5, cy - 0.5
    if abs(horizontal) - abs(vertical) >= POSITION_DEAD_ZONE:
        return "right" if horizontal > 0 else "left"
    if abs(vertical) - abs(horizontal) >= POSITION_DEAD_ZONE:
        return "bottom" if vertical > 0 else "top"
    return None


def _oracle_answer(qa, objects):
    """The answer to ``qa`` computed from the objects only."""
    matching = [obj for obj in objects if obj.shape == qa.target_shape]
    if qa.kind == "exists":
        return "yes" if matching else "no"
    if qa.kind == "count":
        return str(len(matching))
    assert len(matching) == 1, f"{qa.kind} question about a shape that is not unique"
    (obj,) = matching
    return {"colour": obj.colour, "size": obj.size,
            "position": _oracle_position(obj.cx, obj.cy)}[qa.kind]


@few
@given(seed=seeds, split=st.sampled_from(ALL_SPLITS))
def test_every_answer_is_true_of_the_object_list(seed, split):
    """Each of the scene's questions has the answer the oracle derives from its objects."""
    scene = generate_scene(seed, 64, split)
    assert [qa.kind for qa in scene.qa] == list(QUESTION_KINDS)
    for qa in scene.qa:
        assert qa.answer == _oracle_answer(qa, scene.objects), qa
        assert qa.answer in ANSWERS
        expected_targets = tuple(i for i, o in enumerate(scene.objects) if o.shape == qa.target_shape)
        assert qa.target_objects == expected_targets
        assert qa.target_shape in qa.question


@few
@given(seed=seeds, split=st.sampled_from(ALL_SPLITS))
def test_questions_are_about_the_splits_question_families(seed, split):
    """Every target shape belongs to a question family of the split (held-out only in test_zeroshot)."""
    allowed = {s for family in question_families(split) for s in FAMILIES[family]}
    scene = generate_scene(seed, 64, split)
    assert {qa.target_shape for qa in scene.qa} <= allowed
    if split == "test_zeroshot":
        assert allowed == set(FAMILIES[HELD_OUT_FAMILY])


def test_answers_cover_every_value_of_each_kind_with_no_kind_dominated():
    """Over 300 train scenes each answer kind uses all its values, none above twice its fair share
    except counts, where "0" and "1" are each at most half."""
    by_kind = {kind: Counter() for kind in QUESTION_KINDS}
    for seed in range(300):
        for qa in generate_scene(seed, 64, "train").qa:
            by_kind[qa.kind][qa.answer] += 1
    values = {"colour": 8, "exists": 2, "position": 4, "size": 2, "count": 5}
    for kind, counter in by_kind.items():
        assert len(counter) == values[kind], (kind, counter)
        if kind != "count":
            assert max(counter.values()) <= 2 * 300 / values[kind], (kind, counter)
    assert max(by_kind["count"]["0"], by_kind["count"]["1"]) <= 150, by_kind["count"]


def test_answer_index_round_trips_and_rejects_unknown_answers():
    """answer_index is the position in ANSWERS; an unknown answer is a ValueError naming it."""
    assert [answer_index(a) for a in ANSWERS] == list(range(len(ANSWERS)))
    assert len(set(ANSWERS)) == len(ANSWERS)
    with pytest.raises(ValueError, match="'maybe'"):
        answer_index("maybe")
