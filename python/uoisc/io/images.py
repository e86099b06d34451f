#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Image files: read any Pillow format as RGB uint8, list a folder, fit to a square, write PNG."""

import pathlib

import numpy as np
from PIL import Image

# The common still-image formats Pillow opens; other files in a folder are ignored.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff",
                            ".webp", ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".jp2", ".j2k"})


def read_image(path):
    """Read an image file as an H×W×3 uint8 RGB array.

    Palette, grey and CMYK images are converted to RGB; an alpha channel is dropped.

    Raises:
        ValueError: the file is missing or Pillow cannot decode it.
    """
    path = pathlib.Path(path)
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except (OSError, SyntaxError, Image.DecompressionBombError) as err:
        # Pillow reports truncated or corrupt files as OSError, some plugins as SyntaxError.
        raise ValueError(f"cannot read image {path}: {err}") from err


def list_images(folder):
    """Image files (by suffix, case-insensitive) directly in ``folder``, sorted by name.

    Raises:
        ValueError: ``folder`` is not a directory or holds no image file.
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"image folder {folder} does not exist or is not a directory")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"image folder {folder} holds no image file ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return paths


def fit_square(image, size):
    """Resize the shortest side to ``size`` (bicubic) and centre-crop to size × size.

    The same geometry as open_clip's preprocessing, so a reference image and a
    codec's reconstruction of it have the same shape and can be compared.

    Args:
        image: H×W×3 uint8 array.
        size: output side in pixels, > 0.

    Raises:
        ValueError: ``size`` is not a positive integer.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    scale = size / min(height, width)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    resized = Image.fromarray(image).resize((new_w, new_h), Image.BICUBIC)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return np.asarray(resized.crop((left, top, left + size, top + size)), dtype=np.uint8)


def write_png(path, image):
    """Write an H×W×3 uint8 array as a PNG file."""
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), mode="RGB").save(path, format="PNG")
