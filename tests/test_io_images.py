"""Image files for image_source/image_sink: reading any format as RGB, folder listing, square fit, PNG."""

import numpy as np
import pytest
from PIL import Image

from gnuradio.uoisc.io.images import fit_square, list_images, read_image, write_png


def test_png_round_trip_is_exact(tmp_path):
    """write_png then read_image gives back the exact uint8 pixels."""
    image = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    write_png(tmp_path / "a.png", image)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), image)


@pytest.mark.parametrize("mode, channels", [("L", None), ("RGBA", 4), ("P", None)])
def test_other_modes_become_rgb(tmp_path, mode, channels):
    """Grey, RGBA (alpha dropped, colour kept) and palette files read as H×W×3 uint8."""
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 10
    img = Image.fromarray(rgba, "RGBA")
    img = img if mode == "RGBA" else img.convert("RGB").convert(mode)
    img.save(tmp_path / "x.png")
    out = read_image(tmp_path / "x.png")
    assert out.shape == (4, 6, 3) and out.dtype == np.uint8
    if mode == "RGBA":
        assert (out[..., 0] == 200).all() and (out[..., 1:] == 0).all()


def test_unreadable_file_raises_value_error(tmp_path):
    """A corrupt file and a missing file raise ValueError naming the path."""
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="bad.png"):
        read_image(bad)
    with pytest.raises(ValueError, match="missing.png"):
        read_image(tmp_path / "missing.png")


def test_list_images_sorted_and_filtered(tmp_path):
    """Only image suffixes (any case) are listed, sorted by name; other files are ignored."""
    for name in ["b.png", "a.JPG", "c.txt", "queries.jsonl", "d.bmp"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png", "d.bmp"]


def test_list_images_refuses_missing_or_empty_folder(tmp_path):
    """A missing folder or one without images raises ValueError."""
    with pytest.raises(ValueError, match="does not exist"):
        list_images(tmp_path / "nope")
    with pytest.raises(ValueError, match="no image"):
        list_images(tmp_path)


@pytest.mark.parametrize("shape", [(40, 100), (100, 40), (64, 64), (10, 10)])
def test_fit_square_gives_size_square(shape):
    """Any H×W becomes size×size uint8; an image already that size is returned unchanged."""
    image = np.random.default_rng(1).integers(0, 256, shape + (3,), dtype=np.uint8)
    out = fit_square(image, 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    if shape == (64, 64):
        assert out is image


def test_fit_square_crops_the_centre():
    """A wide image whose centre square is one colour and sides another keeps only the centre."""
    image = np.zeros((32, 96, 3), np.uint8)
    image[:, 32:64] = 255
    out = fit_square(image, 32)
    assert (out == 255).all()


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_fit_square_refuses_bad_size(size):
    """A size that is not a positive integer raises ValueError."""
    with pytest.raises(ValueError, match="size"):
        fit_square(np.zeros((4, 4, 3), np.uint8), size)
