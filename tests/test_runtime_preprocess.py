"""uoisc_runtime.preprocess: the encoder sees what open_clip's eval transform would give it.

The reference is ``open_clip.image_transform(size, is_train=False)`` with mean 0 and std 1
(the exported graphs normalise inside), imported on the test side only.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from uoisc_runtime.preprocess import PreprocessError, to_model_input, to_uint8_image

SIZE = 64


@pytest.fixture(scope="module")
def open_clip_transform():
    from uoisc_train.compat import import_open_clip
    return import_open_clip().image_transform(SIZE, is_train=False, mean=(0, 0, 0), std=(1, 1, 1))


@settings(max_examples=40, deadline=None)
@given(st.integers(8, 160), st.integers(8, 160), st.integers(0, 2**32 - 1))
def test_uint8_images_match_open_clips_eval_transform(open_clip_transform, height, width, seed):
    """Any H x W x 3 uint8 image (shortest side above, below or at the model size, square or
    not) becomes exactly the tensor open_clip's resize + centre crop + to-tensor gives."""
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    expected = open_clip_transform(Image.fromarray(image)).numpy()
    ours = to_model_input(image, SIZE)
    assert ours.dtype == np.float32 and ours.shape == (3, SIZE, SIZE)
    assert np.array_equal(ours, expected)


def test_model_sized_images_pass_through_untouched():
    """An image of the model's size is only scaled to [0, 1] (uint8) or kept as is (float):
    the runtime feeds the pixels the torch codec was trained on."""
    rng = np.random.default_rng(1)
    as_uint8 = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    assert np.array_equal(to_model_input(as_uint8, SIZE), as_uint8.transpose(2, 0, 1) / np.float32(255))
    as_float = rng.random((SIZE, SIZE, 3)).astype(np.float32)
    assert np.array_equal(to_model_input(as_float, SIZE), as_float.transpose(2, 0, 1))


def test_channels_pil_images_and_paths(tmp_path):
    """Grey H x W and H x W x 1 repeat into three equal channels; RGBA drops alpha (no
    compositing); a PIL image and a PNG path give the same input as the array."""
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
    grey = rgb[:, :, 0]
    for variant in (grey, grey[:, :, None]):
        out = to_model_input(variant, SIZE)
        assert np.array_equal(out[0], out[1]) and np.array_equal(out[1], out[2])
    rgba = np.concatenate([rgb, rng.integers(0, 256, (80, 96, 1), dtype=np.uint8)], axis=2)
    expected = to_model_input(rgb, SIZE)
    assert np.array_equal(to_model_input(rgba, SIZE), expected)
    assert np.array_equal(to_model_input(Image.fromarray(rgba), SIZE), expected)
    path = tmp_path / "scene.png"
    Image.fromarray(rgb).save(path)
    assert np.array_equal(to_model_input(path, SIZE), expected)
    assert np.array_equal(to_model_input(str(path), SIZE), expected)


def test_float_images_are_resized_in_range():
    """A float image that needs resizing stays in [0, 1], and on a smooth image (no bicubic
    overshoot, which the 8-bit path clips between its two passes) it is within 2/255 of the
    uint8 path: that path rounds after each of its two passes (<= 0.5/255 each, the second
    scaled by the kernel's sum of |weights| < 1.5)."""
    rows, cols = np.mgrid[0:90, 0:120]
    smooth = np.stack([rows / 89, cols / 119, 0.5 + 0.4 * np.sin(rows / 15) * np.cos(cols / 20)], 2)
    as_uint8 = np.round(smooth * 255).astype(np.uint8)
    from_float = to_model_input(as_uint8.astype(np.float64) / 255, SIZE)
    assert from_float.min() >= 0 and from_float.max() <= 1
    assert np.abs(from_float - to_model_input(as_uint8, SIZE)).max() <= 2 / 255


@pytest.mark.parametrize("bad, reason", [
    (np.zeros((0, 5, 3), np.uint8), "empty"),
    (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
    (np.full((4, 4, 3), np.inf, np.float32), "NaN or inf"),
    (np.zeros((4, 4, 3, 1), np.uint8), "shape"),
    (np.zeros((4, 4, 2), np.uint8), "shape"),
    (np.full((4, 4, 3), 1.5, np.float32), r"\[0, 1\]"),
    (np.full((4, 4, 3), -0.1, np.float64), r"\[0, 1\]"),
    (np.zeros((4, 4, 3), np.int16), "int16"),
    ("/nonexistent/image.png", "cannot read"),
])
def test_bad_images_raise_preprocess_error(bad, reason):
    """Empty, non-finite, wrongly shaped, out-of-range, unsupported-dtype or unreadable images
    raise PreprocessError (a ValueError) saying what is wrong."""
    with pytest.raises(PreprocessError, match=reason):
        to_model_input(bad, SIZE)
    assert issubclass(PreprocessError, ValueError)


def test_bad_size_raises():
    """A non-positive or non-integer model size raises PreprocessError."""
    for size in (0, -1, 64.0, True):
        with pytest.raises(PreprocessError, match="size"):
            to_model_input(np.zeros((8, 8, 3), np.uint8), size)


def test_to_uint8_image_rounds_clips_and_inverts_the_input_scaling():
    """3 x H x W floats become H x W x 3 uint8: values clipped to [0, 1], rounded to the nearest
    level, NaN to 0; a uint8 image survives to_model_input -> to_uint8_image unchanged."""
    levels = [-0.5, 0.0, 0.5 / 255, 0.51 / 255, 1.0, 7.0, np.nan]
    chw = np.array(levels, np.float32).reshape(1, 1, 7)
    out = to_uint8_image(np.repeat(chw, 3, axis=0))
    assert out.dtype == np.uint8 and out.shape == (1, 7, 3)
    assert out[0, :, 0].tolist() == [0, 0, 0, 1, 255, 255, 0]
    image = np.random.default_rng(4).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    assert np.array_equal(to_uint8_image(to_model_input(image, SIZE)), image)
    with pytest.raises(PreprocessError, match="3 x H x W"):
        to_uint8_image(np.zeros((4, 4, 3)))
