"""Varied backgrounds, so that a codec must spend bits on pixels, not just on objects.

Every background is built from low-saturation *tones* (grey level 55..200 with
a small tint), far from the saturated object colours, and is drawn with
array operations on coordinate grids. Periods scale with the image side, so a
scene looks alike at 64, 96 and 128 px.
"""

from __future__ import annotations

import numpy as np

BACKGROUNDS: tuple[str, ...] = ("flat", "gradient", "stripes", "checker", "noise")

_GREY_RANGE = (55.0, 200.0)
_MAX_TINT = 18.0
_NOISE_STD_RANGE = (8.0, 22.0)


def _tone(rng: np.random.Generator) -> np.ndarray:
    """A low-saturation RGB colour (float32, shape (3,))."""
    grey = rng.uniform(*_GREY_RANGE)
    return (grey + rng.uniform(-_MAX_TINT, _MAX_TINT, 3)).astype(np.float32)


def _two_tones(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return _tone(rng), _tone(rng)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates, x as a row vector and y as a column vector."""
    coords = np.arange(size, dtype=np.float32) + 0.5
    return coords[None, :], coords[:, None]


def _blend(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per-pixel mix of tones: weight 0 gives a, 1 gives b (H×W weight → H×W×3)."""
    return a + (b - a) * weight[..., None]


def _flat(size, rng):
    return np.broadcast_to(_tone(rng), (size, size, 3))


def _gradient(size, rng):
    a, b = _two_tones(rng)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    x, y = _grid(size)
    t = (np.cos(angle) * (x / size - 0.5) + np.sin(angle) * (y / size - 0.5)) / np.sqrt(0.5) + 0.5
    return _blend(a, b, np.clip(t, 0.0, 1.0))


def _stripes(size, rng):
    a, b = _two_tones(rng)
    angle = rng.choice([0.0, 0.25, 0.5, 0.75]) * np.pi
    period = size * rng.uniform(0.06, 0.18)
    x, y = _grid(size)
    phase = (np.cos(angle) * x + np.sin(angle) * y) / (period / 2.0)
    return _blend(a, b, (np.floor(phase) % 2).astype(np.float32))


def _checker(size, rng):
    a, b = _two_tones(rng)
    cell = size * rng.uniform(0.06, 0.18)
    x, y = _grid(size)
    parity = (np.floor(x / cell) + np.floor(y / cell)) % 2
    return _blend(a, b, parity.astype(np.float32))


def _noise(size, rng):
    std = rng.uniform(*_NOISE_STD_RANGE)
    noise = rng.standard_normal((size, size, 3), dtype=np.float32) * std
    return _tone(rng) + noise


_PAINTERS = {
    "flat": _flat,
    "gradient": _gradient,
    "stripes": _stripes,
    "checker": _checker,
    "noise": _noise,
}
assert set(_PAINTERS) == set(BACKGROUNDS)


def paint_background(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A new ``size × size × 3`` uint8 background of the given kind.

    Args:
        kind: one of :data:`BACKGROUNDS`.
        size: image side in pixels.
        rng: the scene's generator (consumed deterministically).

    Raises:
        ValueError: unknown kind.
    """
    try:
        painter = _PAINTERS[kind]
    except KeyError:
        raise ValueError(f"unknown background {kind!r}; expected one of {BACKGROUNDS}") from None
    image = painter(size, rng)
    return np.clip(image, 0.0, 255.0).astype(np.uint8)
