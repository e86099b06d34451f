"""What a scene holds and where: composition, object placement and the occlusion rule.

Composition (per split, see :mod:`.splits`): 2..5 objects; one *target*
object whose shape is from a question family and occurs once; with
probability :data:`REPEAT_PROBABILITY` (when there is room) a group of 2..4 copies of another
question-family shape, so that counts vary; the rest distinct shapes of the
split's object families. Colours and sizes are uniform and independent.

Occlusion rule: objects are drawn in list order, later ones on top. An object
is accepted only if, after drawing it, every object keeps at least
:data:`MIN_VISIBLE_FRACTION` of its silhouette visible; so any object a
question is about is mostly visible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shapes import object_box_mask
from .splits import object_families, question_families
from .vocabulary import COLOURS, FAMILIES, SHAPE_FAMILY, SIZES

#: Every object keeps at least this share of its silhouette visible.
MIN_VISIBLE_FRACTION = 0.75
#: Radius ranges (fraction of the image side) of the size classes; disjoint on purpose.
RADIUS_RANGES: dict[str, tuple[float, float]] = {"small": (0.075, 0.095), "large": (0.13, 0.155)}
#: "Where is X?" needs the dominant axis to lead the other by this much (fraction of the side).
POSITION_DEAD_ZONE = 0.1
MIN_OBJECTS, MAX_OBJECTS = 2, 5
MAX_REPEATS = 4
#: Chance that a scene of 3+ objects holds a group of one repeated shape.
REPEAT_PROBABILITY = 0.6

_CENTRE_TRIES = 40
_LAYOUT_TRIES = 50
assert set(RADIUS_RANGES) == set(SIZES)


@dataclass(frozen=True)
class SceneObject:
    """One object of a scene.

    Attributes:
        shape, family, colour, size: names from the vocabulary.
        cx, cy: centre as fractions of the image width and height (0..1, y down).
        radius: half the side of the shape's square, as a fraction of the image side.
        visible_fraction: share of its silhouette not covered by later objects.
    """

    shape: str
    family: str
    colour: str
    size: str
    cx: float
    cy: float
    radius: float
    visible_fraction: float = 1.0


def position_answer(cx: float, cy: float) -> str | None:
    """Answer of "Where is X?" for an object centred at (cx, cy), or None if ambiguous.

    The side is the one along the dominant axis of the offset from the image
    centre ("left"/"right" along x, "top"/"bottom" along y); when the two
    offsets differ by less than :data:`POSITION_DEAD_ZONE` the object is
    ambiguous and no position question is asked about it.
    """
    dx, dy = cx - 0.5, cy - 0.5
    if abs(dx) >= abs(dy) + POSITION_DEAD_ZONE:
        return "left" if dx < 0 else "right"
    if abs(dy) >= abs(dx) + POSITION_DEAD_ZONE:
        return "top" if dy < 0 else "bottom"
    return None


def _shapes_of(families: tuple[str, ...]) -> list[str]:
    return [shape for family in families for shape in FAMILIES[family]]


def compose(split: str, rng: np.random.Generator) -> tuple[list[str], int]:
    """Draw the shapes of a scene.

    Returns:
        ``(shapes, target)``: shapes in drawing order, and the index of the
        target object (unique shape, from a question family).
    """
    n_objects = int(rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1))
    asked = _shapes_of(question_families(split))
    drawable = _shapes_of(object_families(split))
    target = str(rng.choice(asked))
    shapes = [target]
    if n_objects >= 3 and rng.random() < REPEAT_PROBABILITY:
        repeated = str(rng.choice([s for s in asked if s != target]))
        shapes += [repeated] * int(rng.integers(2, min(n_objects - 1, MAX_REPEATS) + 1))
    others = [s for s in drawable if s not in shapes]
    n_others = min(n_objects - len(shapes), len(others))
    shapes += [str(s) for s in rng.choice(others, size=n_others, replace=False)]
    order = rng.permutation(len(shapes))
    return [shapes[i] for i in order], int(np.flatnonzero(order == 0)[0])


def _draw_centre(radius: float, size: int, is_target: bool, rng: np.random.Generator):
    # Keep the whole silhouette (its [-1, 1]² square) inside the image.
    margin = radius + 1.0 / size
    while True:
        cx, cy = rng.uniform(margin, 1.0 - margin, 2)
        # The target must have an unambiguous position, so that every scene
        # can ask "Where is X?".
        if not is_target or position_answer(cx, cy) is not None:
            return float(cx), float(cy)


def _try_layout(shapes, target, size, rng):
    """One attempt to place every object; None when some object found no place."""
    label = np.full((size, size), -1, dtype=np.int8)
    areas, placed = [], []
    for index, shape in enumerate(shapes):
        size_class = str(rng.choice(SIZES))
        radius = float(rng.uniform(*RADIUS_RANGES[size_class]))
        colour = str(rng.choice(COLOURS))
        for _ in range(_CENTRE_TRIES):
            cx, cy = _draw_centre(radius, size, index == target, rng)
            rows, cols, mask = object_box_mask(shape, cx, cy, radius, size)
            before = label[rows, cols].copy()
            label[rows, cols][mask] = index
            visible = np.bincount(label.ravel() + 1, minlength=index + 2)[1:index + 1]
            if np.all(visible >= MIN_VISIBLE_FRACTION * np.asarray(areas, dtype=float)):
                break
            label[rows, cols] = before
        else:
            return None
        areas.append(int(mask.sum()))
        placed.append((shape, colour, size_class, cx, cy, radius))
    visible = np.bincount(label.ravel() + 1, minlength=len(shapes) + 1)[1:]
    objects = [
        SceneObject(shape=shape, family=SHAPE_FAMILY[shape], colour=colour, size=size_class,
                    cx=cx, cy=cy, radius=radius, visible_fraction=float(visible[i] / areas[i]))
        for i, (shape, colour, size_class, cx, cy, radius) in enumerate(placed)
    ]
    return objects, label


def place(shapes: list[str], target: int, size: int, rng: np.random.Generator
          ) -> tuple[list[SceneObject], np.ndarray]:
    """Give every object a size, colour and position that obey the occlusion rule.

    Returns:
        ``(objects, label)``: the objects in drawing order, and an int8
        ``size × size`` map of the index of the topmost object per pixel (-1: background).

    Raises:
        RuntimeError: no layout found (not expected: 5 large objects fill < 40 % of the image).
    """
    for _ in range(_LAYOUT_TRIES):
        layout = _try_layout(shapes, target, size, rng)
        if layout is not None:
            return layout
    raise RuntimeError(f"no layout found for {shapes} at {size} px")
