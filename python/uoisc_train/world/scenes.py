"""Deterministic procedural scenes: image, object list, caption and VQA triples.

``generate_scene(seed, size, split)`` is a pure function: the same arguments
give the same image bytes, objects, caption and questions on any machine
(numpy's PCG64 seeded through ``SeedSequence([seed, split_id])``), for a given
:data:`~uoisc_train.world.vocabulary.GENERATOR_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .backgrounds import BACKGROUNDS, paint_background
from .layout import SceneObject, compose, place, position_answer
from .splits import split_id
from .vocabulary import COLOUR_RGB
from .vqa import QA, make_questions

DEFAULT_SIZE = 64
MIN_SIZE, MAX_SIZE = 64, 512

_BACKGROUND_WORDS = {"flat": "plain", "gradient": "gradient", "stripes": "striped",
                     "checker": "checkered", "noise": "noisy"}
assert set(_BACKGROUND_WORDS) == set(BACKGROUNDS)

# Caption phrases: the "Where is X?" side when it is unambiguous, else the
# centre or the diagonal corner, so captions never contradict the VQA answers.
_SIDE_PHRASES = {"left": "on the left", "right": "on the right",
                 "top": "at the top", "bottom": "at the bottom"}
_CENTRE_RADIUS = 0.1


@dataclass
class Scene:
    """A generated scene.

    Attributes:
        image: ``size × size × 3`` uint8 RGB.
        objects: the objects in drawing order (later ones on top).
        background: a member of :data:`~uoisc_train.world.backgrounds.BACKGROUNDS`.
        caption: one English sentence listing every object.
        qa: one triple per question kind, in ``QUESTION_KINDS`` order.
        seed, split: the arguments that generated it.
    """

    image: np.ndarray
    objects: list[SceneObject]
    background: str
    caption: str
    qa: list[QA]
    seed: int = 0
    split: str = "train"
    label: np.ndarray | None = field(default=None, repr=False)


def position_phrase(cx: float, cy: float) -> str:
    """Coarse position of a centre for captions, e.g. "on the left" or "at the top right"."""
    side = position_answer(cx, cy)
    if side is not None:
        return _SIDE_PHRASES[side]
    dx, dy = cx - 0.5, cy - 0.5
    if max(abs(dx), abs(dy)) < _CENTRE_RADIUS:
        return "in the centre"
    return f"at the {'top' if dy < 0 else 'bottom'} {'left' if dx < 0 else 'right'}"


def make_caption(objects: list[SceneObject], background: str) -> str:
    """"A large red circle at the top left, ... and a small blue star in the centre, on a plain background."""
    parts = [f"a {o.size} {o.colour} {o.shape} {position_phrase(o.cx, o.cy)}" for o in objects]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    sentence = f"{listed}, on a {_BACKGROUND_WORDS[background]} background."
    return sentence[0].upper() + sentence[1:]


def render(background: np.ndarray, objects: list[SceneObject], label: np.ndarray) -> np.ndarray:
    """Paint each object's visible pixels (from the label map) in its exact colour."""
    image = background.copy()
    palette = np.array([COLOUR_RGB[o.colour] for o in objects], dtype=np.uint8)
    drawn = label >= 0
    image[drawn] = palette[label[drawn]]
    return image


def check_size(size: int) -> int:
    """Return ``size`` or raise ``ValueError`` naming it (an integer in [MIN_SIZE, MAX_SIZE])."""
    if not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an integer in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}")
    return int(size)


def _check_seed(seed: int) -> int:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def generate_scene(seed: int, size: int = DEFAULT_SIZE, split: str = "train") -> Scene:
    """Generate one scene.

    Args:
        seed: non-negative integer; the datasets use
            :func:`~uoisc_train.world.splits.scene_seed` (dataset seed, index).
        size: image side in pixels (64 default; 96 and 128 are the tested sizes).
        split: a member of ``ALL_SPLITS`` (``train``, ``test_seen``,
            ``test_zeroshot``, ``pretrain``); each split draws from its own seed stream.

    Raises:
        ValueError: bad seed, size or split.
    """
    seed, size = _check_seed(seed), check_size(size)
    rng = np.random.default_rng(np.random.SeedSequence([seed, split_id(split)]))
    shapes, target = compose(split, rng)
    background = str(rng.choice(BACKGROUNDS))
    objects, label = place(shapes, target, size, rng)
    qa = make_questions(objects, split, rng)
    image = render(paint_background(background, size, rng), objects, label)
    return Scene(image=image, objects=objects, background=background,
                 caption=make_caption(objects, background), qa=qa,
                 seed=seed, split=split, label=label)
