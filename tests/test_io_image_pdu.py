"""The image PDU helpers: round trip of pixels and metadata, refusal of inconsistent PDUs."""

import numpy as np
import pmt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gnuradio.uoisc.io.image_pdu import image_pdu, parse_image_pdu

images = st.tuples(st.integers(1, 12), st.integers(1, 12)).flatmap(
    lambda hw: arrays(np.uint8, (hw[0], hw[1], 3)))
meta_values = st.one_of(st.text(max_size=20), st.integers(-2**62, 2**62), st.booleans(),
                        st.floats(allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(image=images, extra=st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True)
                                           .filter(lambda k: k not in ("height", "width", "channels")),
                                           meta_values, max_size=5))
def test_round_trip(image, extra):
    """parse_image_pdu(image_pdu(img, **meta)) gives back the exact pixels, every meta value,
    and height/width/channels taken from the image."""
    meta, out = parse_image_pdu(image_pdu(image, **extra))
    np.testing.assert_array_equal(out, image)
    assert out.dtype == np.uint8
    assert (meta["height"], meta["width"], meta["channels"]) == image.shape
    for key, value in extra.items():
        assert meta[key] == value


def test_numpy_scalars_are_accepted():
    """numpy scalar meta values (which pmt.to_pmt refuses) arrive as the equal Python values."""
    meta, _ = parse_image_pdu(image_pdu(np.zeros((2, 2, 3), np.uint8), seq=np.uint16(7),
                                        psnr=np.float32(1.5)))
    assert meta["seq"] == 7 and meta["psnr"] == 1.5


def test_non_contiguous_image_keeps_pixel_order():
    """A transposed (non C-contiguous) view is sent in its logical C order."""
    base = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(5, 4, 3)
    view = base.transpose(1, 0, 2)
    _, out = parse_image_pdu(image_pdu(view))
    np.testing.assert_array_equal(out, view)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8),
                                 np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8),
                                 [[[0, 0, 0]]]])
def test_bad_images_are_refused(bad):
    """Anything but a non-empty H×W×3 uint8 numpy array raises ValueError."""
    with pytest.raises(ValueError):
        image_pdu(bad)


def test_contradicting_shape_meta_is_refused():
    """A height keyword that disagrees with the image raises ValueError naming it."""
    with pytest.raises(ValueError, match="height"):
        image_pdu(np.zeros((2, 3, 3), np.uint8), height=3)


def raw_pdu(payload_len, **meta):
    return pmt.cons(pmt.to_pmt(meta), pmt.init_u8vector(payload_len, [0] * payload_len))


@pytest.mark.parametrize("msg, fragment", [
    (pmt.intern("hello"), "not a PDU"),
    (pmt.cons(pmt.make_dict(), pmt.init_f32vector(3, [0.0] * 3)), "u8"),
    (raw_pdu(12, width=2, channels=3), "height"),
    (raw_pdu(12, height=2, width=2.0, channels=3), "width"),
    (raw_pdu(12, height=2, width=2, channels=True), "channels"),
    (raw_pdu(12, height=-2, width=-2, channels=3), "height"),
    (raw_pdu(8, height=2, width=2, channels=2), "channels must be 3"),
    (raw_pdu(11, height=2, width=2, channels=3), "11 bytes"),
])
def test_malformed_pdus_are_refused(msg, fragment):
    """Non-PDUs, non-u8 payloads, missing/non-integer dimensions, channels != 3 and a payload
    length that disagrees with height×width×channels all raise ValueError saying which."""
    with pytest.raises(ValueError, match=fragment):
        parse_image_pdu(msg)
