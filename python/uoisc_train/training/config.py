"""Run settings of a codec training (everything that is not the codec itself) and ``--set`` overrides.

The codec's own hyper-parameters live in :class:`~uoisc_train.codec.CodecConfig`;
:class:`TrainSettings` holds the schedule, optimiser, data and judge. The
command line takes ``--set key=value`` for fields of either; the two field
sets are disjoint (checked at import), so a key is never ambiguous.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from uoisc_train.codec import CodecConfig

__all__ = ["TrainSettings", "JUDGES", "apply_overrides", "split_overrides", "parse_value",
           "require_ints"]

#: Judge choices besides a model folder path: the shipped tiny judge, a
#: random-init tiny judge (tests and smoke runs), or none (needs lambda_relevance = 0).
JUDGES = ("tiny", "random-tiny", "none")


@dataclass(frozen=True)
class TrainSettings:
    """Schedule, optimiser, data and judge of one training run.

    Args:
        phase1_steps: optimiser steps of Phase I (eq. 13: VQ + MSE + relevance).
        phase2_steps: steps of Phase II (eq. 14-15: adds the PatchGAN; one
            generator and one discriminator update per step).
        batch_size: images per step (one question each).
        lr: Adam learning rate of the codec.
        discriminator_lr: Adam learning rate of the PatchGAN.
        restart_every: dead-codeword restart period in steps (0: never).
        train_backbone: also train the CLIP towers (baseline (b), "no pretrained
            VLM": same architecture, random init, trained end to end).
        train_scenes: scenes of the ``train`` split generated into memory.
        data_seed: dataset seed of those scenes.
        seed: seed of the initialisation, batch order and index noise.
        judge: ``"tiny"``, ``"random-tiny"``, ``"none"`` or a judge model folder.
        log_every: steps between JSON-lines log records.
        checkpoint_every: steps between checkpoints (one is always written at the end).
        eval_scenes: scenes per split of the final evaluation (0: none).
        max_seconds: wall-clock budget of the training loop (0: none); when it
            runs out the run stops after the current step, saves its checkpoint
            (``--resume`` continues it) and logs that it stopped early.
    """

    phase1_steps: int = 300
    phase2_steps: int = 100
    batch_size: int = 16
    lr: float = 2e-3
    discriminator_lr: float = 2e-4
    restart_every: int = 10
    train_backbone: bool = False
    train_scenes: int = 2000
    data_seed: int = 0
    seed: int = 0
    judge: str = "tiny"
    log_every: int = 10
    checkpoint_every: int = 100
    eval_scenes: int = 0
    max_seconds: int = 0

    def __post_init__(self) -> None:
        require_ints(self, ("phase1_steps", "phase2_steps", "restart_every", "data_seed", "seed",
                            "eval_scenes", "max_seconds"), minimum=0)
        require_ints(self, ("batch_size", "train_scenes", "log_every", "checkpoint_every"), minimum=1)
        for name in ("lr", "discriminator_lr"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name}={value!r} must be a number > 0")
        if not isinstance(self.train_backbone, bool):
            raise ValueError(f"train_backbone={self.train_backbone!r} must be a bool")
        if not isinstance(self.judge, str) or not self.judge:
            raise ValueError(f"judge={self.judge!r} must be one of {JUDGES} or a model folder")

    @property
    def total_steps(self) -> int:
        """Phase I plus Phase II steps."""
        return self.phase1_steps + self.phase2_steps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainSettings":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown TrainSettings fields {unknown!r}")
        return cls(**data)


_CODEC_FIELDS = {f.name for f in dataclasses.fields(CodecConfig)}
_TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainSettings)}
assert not _CODEC_FIELDS & _TRAIN_FIELDS, "codec and training field names must stay disjoint"


def parse_value(text: str) -> Any:
    """JSON value (``1``, ``0.5``, ``true``, ``null``, ``[2, 4]``) or, failing that, the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_assignment(assignment: str) -> tuple[str, Any]:
    key, sep, value = assignment.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"override {assignment!r} is not KEY=VALUE")
    return key.strip(), parse_value(value.strip())


def apply_overrides(values: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """A copy of ``values`` with ``KEY=VALUE`` assignments applied; unknown keys raise ``ValueError``."""
    result = dict(values)
    for assignment in assignments:
        key, value = _parse_assignment(assignment)
        if key not in result:
            raise ValueError(f"unknown key {key!r} in override {assignment!r}; known: {sorted(result)}")
        result[key] = value
    return result


def split_overrides(assignments: list[str]) -> tuple[list[str], list[str]]:
    """Sort ``KEY=VALUE`` assignments into (codec config ones, training settings ones).

    Raises:
        ValueError: a key that is a field of neither.
    """
    codec, training = [], []
    for assignment in assignments:
        key, _ = _parse_assignment(assignment)
        if key in _CODEC_FIELDS:
            codec.append(assignment)
        elif key in _TRAIN_FIELDS:
            training.append(assignment)
        else:
            raise ValueError(f"unknown key {key!r} in override {assignment!r}: neither a codec "
                             f"config field {sorted(_CODEC_FIELDS)} nor a training setting "
                             f"{sorted(_TRAIN_FIELDS)}")
    return codec, training


def require_ints(owner: Any, names: tuple[str, ...], minimum: int) -> None:
    """Raise ``ValueError`` naming the first field of ``owner`` in ``names`` that is not an
    integer (a bool is not) of at least ``minimum``."""
    for name in names:
        value = getattr(owner, name)
        if not _is_int(value) or value < minimum:
            raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
