"""Tests of the split definitions and of the per-item seeds."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uoisc_train.world import ALL_SPLITS, FAMILIES, HELD_OUT_FAMILY, SPLITS, scene_seed
from uoisc_train.world.splits import MAX_ITEMS_PER_SEED, object_families, question_families


def test_split_families():
    """Seen splits draw and ask about seen families; zero-shot asks about the held-out family;
    pretrain draws and asks about every family."""
    seen = set(FAMILIES) - {HELD_OUT_FAMILY}
    for split in ("train", "test_seen"):
        assert set(object_families(split)) == set(question_families(split)) == seen
    assert set(object_families("test_zeroshot")) == set(FAMILIES)
    assert question_families("test_zeroshot") == (HELD_OUT_FAMILY,)
    assert set(object_families("pretrain")) == set(question_families("pretrain")) == set(FAMILIES)
    assert SPLITS == ("train", "test_seen", "test_zeroshot") and set(SPLITS) < set(ALL_SPLITS)


@settings(max_examples=200, deadline=None)
@given(a=st.tuples(st.integers(0, 2**40), st.integers(0, MAX_ITEMS_PER_SEED - 1)),
       b=st.tuples(st.integers(0, 2**40), st.integers(0, MAX_ITEMS_PER_SEED - 1)))
def test_scene_seed_is_injective(a, b):
    """Distinct (dataset seed, index) pairs never share a scene seed."""
    assert (scene_seed(*a) == scene_seed(*b)) == (a == b)


@pytest.mark.parametrize("seed, index", [(-1, 0), (0, -1), (0, MAX_ITEMS_PER_SEED)])
def test_scene_seed_rejects_out_of_range_arguments(seed, index):
    """A negative seed or an index outside [0, 2**32) is a ValueError."""
    with pytest.raises(ValueError):
        scene_seed(seed, index)


def test_unknown_split_is_a_value_error_naming_it():
    """Asking the families of an unknown split raises ValueError with its name."""
    with pytest.raises(ValueError, match="'holdout'"):
        object_families("holdout")
