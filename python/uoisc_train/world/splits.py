"""Splits of the offline world: which families appear, which are asked about, and seeds.

- ``train`` and ``test_seen``: objects and questions from the seen families only
  (the held-out family never appears in their images); independent seed streams.
- ``test_zeroshot``: every scene holds at least one held-out-family object,
  among seen-family distractors; every question is about the held-out family.
- ``pretrain`` (not in :data:`SPLITS`): objects and questions from *all*
  families, for pretraining the tiny CLIP and judge, as CLIP saw animals on the web.
"""

from __future__ import annotations

from .vocabulary import FAMILIES, HELD_OUT_FAMILY

#: The codec's splits.
SPLITS: tuple[str, ...] = ("train", "test_seen", "test_zeroshot")
#: The split of the world models' pretraining (all families).
PRETRAIN_SPLIT = "pretrain"
ALL_SPLITS: tuple[str, ...] = SPLITS + (PRETRAIN_SPLIT,)

# Fixed stream ids: appending a split must never renumber the existing ones.
_SPLIT_IDS = {"train": 1, "test_seen": 2, "test_zeroshot": 3, "pretrain": 4}

_SEEN_FAMILIES = tuple(f for f in FAMILIES if f != HELD_OUT_FAMILY)

#: Largest item index a dataset seed stream holds.
MAX_ITEMS_PER_SEED = 2**32


def check_split(split: str) -> str:
    """Return ``split`` or raise ``ValueError`` naming it."""
    if split not in _SPLIT_IDS:
        raise ValueError(f"unknown split {split!r}; expected one of {ALL_SPLITS}")
    return split


def split_id(split: str) -> int:
    """The fixed integer mixed into the seeds of ``split``."""
    return _SPLIT_IDS[check_split(split)]


def object_families(split: str) -> tuple[str, ...]:
    """Families whose shapes may be drawn in ``split``'s images."""
    if check_split(split) in ("train", "test_seen"):
        return _SEEN_FAMILIES
    return tuple(FAMILIES)


def question_families(split: str) -> tuple[str, ...]:
    """Families the questions of ``split`` are about (and that hold the scene's target)."""
    check_split(split)
    if split == "test_zeroshot":
        return (HELD_OUT_FAMILY,)
    return object_families(split)


def scene_seed(dataset_seed: int, index: int) -> int:
    """Seed of item ``index`` of a dataset with seed ``dataset_seed``.

    Distinct (dataset_seed, index) pairs give distinct scene seeds, so item i
    is a pure function of (split, dataset_seed, i, size) whatever process
    computes it.

    Raises:
        ValueError: a negative seed, or an index outside ``[0, 2**32)``.
    """
    if dataset_seed < 0:
        raise ValueError(f"dataset_seed must be >= 0, got {dataset_seed}")
    if not 0 <= index < MAX_ITEMS_PER_SEED:
        raise ValueError(f"index must be in [0, {MAX_ITEMS_PER_SEED}), got {index}")
    return dataset_seed * MAX_ITEMS_PER_SEED + index
