"""Images in, model input out (and back): what open_clip's eval transform does, without torch.

open_clip resizes the shortest side to the model's size (bicubic, on a PIL
image), centre-crops a square and scales to [0, 1]; the mean/std
normalisation is inside the exported encoder graph, so it is not done here.
An image that already has the model's size is passed through untouched, so
the runtime sees exactly the pixels the torch codec saw in training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

__all__ = ["ImageLike", "PreprocessError", "to_model_input", "to_uint8_image"]

ImageLike = Union[np.ndarray, Image.Image, str, Path]


class PreprocessError(ValueError):
    """The image cannot be turned into model input (empty, non-finite, wrong shape or range)."""


def _as_hwc_float(image: ImageLike) -> tuple[np.ndarray, bool]:
    """``(H x W x 3 float32 in [0, 1], was_uint8)`` from any accepted input; alpha dropped."""
    if isinstance(image, (str, Path)):
        try:
            with Image.open(image) as opened:
                image = opened.convert("RGB")
        except OSError as error:
            raise PreprocessError(f"cannot read image file {str(image)!r}: {error}") from error
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise PreprocessError(f"image of shape {array.shape}; expected H x W, or H x W x C with "
                              "C in 1, 3, 4")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise PreprocessError(f"image of shape {array.shape} is empty")
    array = array[:, :, :3] if array.shape[2] == 4 else np.repeat(array, 3 // array.shape[2], 2)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0, True
    if not np.issubdtype(array.dtype, np.floating):
        raise PreprocessError(f"image of dtype {array.dtype}; expected uint8 or float in [0, 1]")
    if not np.isfinite(array).all():
        raise PreprocessError("image contains NaN or inf")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise PreprocessError(f"float image spans [{low}, {high}]; expected values in [0, 1]")
    return array.astype(np.float32), False


def _resize_shortest_side(image: np.ndarray, size: int, was_uint8: bool) -> np.ndarray:
    """Bicubic resize so the shortest side is ``size`` (torchvision's rule for the long side)."""
    height, width = image.shape[:2]
    short, long = min(height, width), max(height, width)
    if short == size:
        return image
    new_long = int(size * long / short)
    new_h, new_w = (size, new_long) if height <= width else (new_long, size)
    if was_uint8:
        # Resize the 8-bit image, as open_clip does on a PIL RGB image.
        pil = Image.fromarray(np.round(image * 255.0).astype(np.uint8), mode="RGB")
        return np.asarray(pil.resize((new_w, new_h), Image.BICUBIC)).astype(np.float32) / 255.0
    # Float images keep their precision: one 32-bit float plane per channel.
    planes = [np.asarray(Image.fromarray(image[:, :, c], mode="F").resize((new_w, new_h),
                                                                           Image.BICUBIC))
              for c in range(3)]
    return np.clip(np.stack(planes, axis=2), 0.0, 1.0)


def _centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    height, width = image.shape[:2]
    # torchvision's CenterCrop offsets.
    top, left = int(round((height - size) / 2.0)), int(round((width - size) / 2.0))
    return image[top:top + size, left:left + size]


def to_model_input(image: ImageLike, size: int) -> np.ndarray:
    """An image as the encoder's input: float32 ``3 x size x size`` in [0, 1].

    Args:
        image: uint8 or float (in [0, 1]) array ``H x W`` or ``H x W x 1/3/4``
            (alpha dropped), a PIL image, or a path to an image file.
        size: the model's square input size.

    Raises:
        PreprocessError: unreadable file, empty image, NaN/inf, wrong ndim or
            channels, float values outside [0, 1], or a bad ``size``.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise PreprocessError(f"size={size!r} must be a positive integer")
    hwc, was_uint8 = _as_hwc_float(image)
    square = _centre_crop(_resize_shortest_side(hwc, size, was_uint8), size)
    return np.ascontiguousarray(square.transpose(2, 0, 1), dtype=np.float32)


def to_uint8_image(chw: np.ndarray) -> np.ndarray:
    """A decoder output ``3 x H x W`` (float, nominally [0, 1]) as ``H x W x 3`` uint8.

    Values are clipped to [0, 1] and rounded to the nearest level; NaN becomes 0.

    Raises:
        PreprocessError: not a ``3 x H x W`` array.
    """
    array = np.asarray(chw, dtype=np.float32)
    if array.ndim != 3 or array.shape[0] != 3:
        raise PreprocessError(f"decoder output of shape {array.shape}; expected 3 x H x W")
    levels = np.round(np.clip(np.nan_to_num(array, nan=0.0), 0.0, 1.0) * 255.0)
    return np.ascontiguousarray(levels.transpose(1, 2, 0).astype(np.uint8))
