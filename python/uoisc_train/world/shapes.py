"""Binary silhouettes of every shape, computed on coordinate grids (no pixel loops).

Each shape is an implicit function of normalised coordinates ``u`` (right) and
``v`` (down) in which the shape fits in the square ``[-1, 1]²``; an object of
radius ``r`` pixels maps one unit to ``r`` pixels.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .vocabulary import SHAPES

Mask = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _in_triangle(u, v, apex_v, base_v, half_base):
    """Isosceles triangle with its apex at (0, apex_v) and base at v = base_v."""
    t = (v - apex_v) / (base_v - apex_v)
    return (t >= 0) & (t <= 1) & (np.abs(u) <= t * half_base)


def _circle(u, v):
    return u * u + v * v <= 1.0


def _square(u, v):
    return (np.abs(u) <= 0.82) & (np.abs(v) <= 0.82)


def _triangle(u, v):
    return _in_triangle(u, v, apex_v=-0.95, base_v=0.8, half_base=1.0)


def _star(u, v):
    # Polar outline between an inner and outer radius, one point straight up.
    theta = np.arctan2(u, -v)
    r = np.sqrt(u * u + v * v)
    lobes = 0.5 * (1.0 + np.cos(5.0 * theta))
    return r <= 0.42 + 0.58 * lobes * lobes


def _cross(u, v):
    au, av = np.abs(u), np.abs(v)
    return ((au <= 0.3) & (av <= 0.95)) | ((av <= 0.3) & (au <= 0.95))


def _ring(u, v):
    r2 = u * u + v * v
    return (r2 <= 1.0) & (r2 >= 0.5 * 0.5)


def _fish(u, v):
    body = ((u + 0.25) / 0.7) ** 2 + (v / 0.5) ** 2 <= 1.0
    # Tail: a triangle opening to the right, its apex inside the body.
    tail = (u >= 0.3) & (u <= 0.98) & (np.abs(v) <= (u - 0.3) * 1.0)
    return body | tail


def _cat(u, v):
    head = u * u + (v - 0.22) ** 2 <= 0.76 * 0.76
    left_ear = _in_triangle(u + 0.45, v, apex_v=-0.98, base_v=-0.2, half_base=0.3)
    right_ear = _in_triangle(u - 0.45, v, apex_v=-0.98, base_v=-0.2, half_base=0.3)
    return head | left_ear | right_ear


def _bird(u, v):
    body = ((u - 0.15) / 0.8) ** 2 + ((v - 0.3) / 0.5) ** 2 <= 1.0
    head = (u + 0.5) ** 2 + (v + 0.4) ** 2 <= 0.35 * 0.35
    # Beak: a triangle pointing left from the head.
    beak = (u <= -0.7) & (u >= -1.0) & (np.abs(v + 0.4) <= (u + 1.0) * 0.4)
    return body | head | beak


SHAPE_MASKS: dict[str, Mask] = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "star": _star,
    "cross": _cross,
    "ring": _ring,
    "fish": _fish,
    "cat": _cat,
    "bird": _bird,
}
assert set(SHAPE_MASKS) == set(SHAPES), "every shape needs exactly one mask"


def shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean silhouette of ``shape`` at normalised coordinates ``(u, v)``.

    Args:
        shape: a name from :data:`~uoisc_train.world.vocabulary.SHAPES`.
        u, v: broadcastable arrays, right and down, the shape filling ``[-1, 1]²``.

    Raises:
        ValueError: unknown shape.
    """
    try:
        mask_fn = SHAPE_MASKS[shape]
    except KeyError:
        raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}") from None
    return mask_fn(u, v)


def object_box_mask(shape: str, cx: float, cy: float, radius: float, size: int
                    ) -> tuple[slice, slice, np.ndarray]:
    """Pixel mask of an object, restricted to its bounding box.

    Args:
        shape: shape name.
        cx, cy: centre as fractions of the image width and height (0..1).
        radius: half the side of the shape's square, as a fraction of the image side.
        size: image side in pixels.

    Returns:
        ``(rows, cols, mask)``: ``image[rows, cols][mask]`` are the object's pixels.
    """
    centre_x, centre_y, r = cx * size, cy * size, radius * size
    x0, x1 = max(int(np.floor(centre_x - r)), 0), min(int(np.ceil(centre_x + r)), size)
    y0, y1 = max(int(np.floor(centre_y - r)), 0), min(int(np.ceil(centre_y + r)), size)
    # Pixel centres sit at integer + 0.5.
    u = ((np.arange(x0, x1, dtype=np.float32) + 0.5 - centre_x) / r)[None, :]
    v = ((np.arange(y0, y1, dtype=np.float32) + 0.5 - centre_y) / r)[:, None]
    return slice(y0, y1), slice(x0, x1), shape_mask(shape, u, v)


def object_mask(shape: str, cx: float, cy: float, radius: float, size: int) -> np.ndarray:
    """Full-image boolean mask (size × size) of an object; see :func:`object_box_mask`."""
    rows, cols, box = object_box_mask(shape, cx, cy, radius, size)
    mask = np.zeros((size, size), dtype=bool)
    mask[rows, cols] = box
    return mask
