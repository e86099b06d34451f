"""uoisc_runtime.frame: the 8-byte codec header (magic, version, kind, fingerprint)."""

import pytest
from hypothesis import given, settings, strategies as st

from uoisc_runtime.frame import (HEADER_BYTES, KINDS, MAGIC, CodecFrame, FrameError, build_frame,
                                 parse_frame)


@given(st.sampled_from(sorted(KINDS)), st.binary(min_size=4, max_size=4), st.binary(max_size=64))
def test_build_then_parse_round_trips(kind, fingerprint, body):
    """parse_frame(build_frame(k, f, b)) gives back k, f and b, and the header is 8 bytes."""
    data = build_frame(kind, fingerprint, body)
    assert len(data) == HEADER_BYTES + len(body) == 8 + len(body)
    assert parse_frame(data) == CodecFrame(kind, fingerprint, body)


def test_header_layout_is_byte_exact():
    """magic 'UO', version 1, kind byte from KINDS, then the fingerprint, then the body."""
    assert build_frame("jpeg2000", b"\x01\x02\x03\x04", b"xy") == b"UO\x01\x02\x01\x02\x03\x04xy"
    assert KINDS == {"uoisc": 1, "jpeg2000": 2, "vlf": 3} and MAGIC == b"UO"


@settings(max_examples=500)
@given(st.binary(max_size=24))
def test_arbitrary_bytes_raise_only_frame_error(data):
    """Any byte string either parses (then it starts with a valid header) or raises FrameError,
    never another exception."""
    try:
        frame = parse_frame(data)
    except FrameError:
        return
    assert data[:2] == MAGIC and data[2] == 1 and frame.kind in KINDS
    assert frame.body == data[HEADER_BYTES:]


@pytest.mark.parametrize("data, reason", [
    (b"UO\x01\x01\x00\x00\x00", "shorter"),
    (b"XO\x01\x01\x00\x00\x00\x00", "magic"),
    (b"UO\x02\x01\x00\x00\x00\x00", "version 2"),
    (b"UO\x01\x09\x00\x00\x00\x00", "kind byte 9"),
])
def test_bad_headers_name_the_fault(data, reason):
    """Short data, wrong magic, unknown version and unknown kind each raise FrameError saying so."""
    with pytest.raises(FrameError, match=reason):
        parse_frame(data)


def test_build_refuses_bad_arguments():
    """An unknown kind or a fingerprint that is not 4 bytes raises FrameError (a ValueError)."""
    with pytest.raises(FrameError, match="kind"):
        build_frame("mp3", b"\x00" * 4, b"")
    with pytest.raises(FrameError, match="3 bytes"):
        build_frame("uoisc", b"\x00" * 3, b"")
    assert issubclass(FrameError, ValueError)
