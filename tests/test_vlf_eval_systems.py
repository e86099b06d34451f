"""uoisc-vlf-eval's system names and the caption payloads of the text-only baseline."""

import pytest
from hypothesis import given, settings, strategies as st

from gnuradio.uoisc.apps import vlf_eval_systems as systems


@pytest.mark.parametrize("name, kind, max_bytes", [
    ("vlf", systems.KIND_VLF, 0), ("caption-utf8", systems.KIND_TEXT, 0),
    ("caption-utf8@40", systems.KIND_TEXT, 40), ("caption-utf8@vlf", systems.KIND_TEXT, 37),
    ("jpeg2000@208", systems.KIND_IMAGE, 208)])
def test_system_names_resolve_to_their_kind_and_budget(name, kind, max_bytes):
    """Each documented name resolves to its kind and byte budget; '@vlf' takes the VLF frame's bytes."""
    spec = systems.resolve_system(name, vlf_payload_bytes=37)
    assert (spec.name, spec.kind, spec.max_bytes) == (name, kind, max_bytes)
    assert spec.has_text == (kind != systems.KIND_IMAGE) and spec.has_image == (kind != systems.KIND_TEXT)


@pytest.mark.parametrize("name", ["jpeg2000", "caption-utf8@0", "caption-utf8@x", "caption-utf8@vlf", "uoisc",
                                  "jpeg2000@-3"])
def test_unknown_names_and_bad_budgets_are_refused(name):
    """Unknown systems, non-positive or non-numeric budgets, and '@vlf' without a VLF frame size
    raise ValueError naming the system."""
    with pytest.raises(ValueError, match="system"):
        systems.resolve_system(name)


@settings(max_examples=60, deadline=None)
@given(caption=st.text(min_size=1, max_size=120), max_bytes=st.integers(0, 300))
def test_a_caption_payload_is_its_utf8_prefix_and_reads_back(caption, max_bytes):
    """The payload is the caption's UTF-8 cut after max_bytes (0 = whole); reading it back gives the
    caption itself when nothing was cut, and never raises on a cut inside a character."""
    data = caption.encode("utf-8")
    payload = systems.caption_payload(caption, max_bytes)
    assert payload == (data[:max_bytes] if max_bytes else data)
    text = systems.received_caption(payload)
    if len(payload) == len(data) and not caption.endswith("\0"):
        assert text == caption


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=0, max_size=200))
def test_any_received_bytes_read_as_text(data):
    """Arbitrary (bit-error) bytes decode to a string without raising; trailing NULs are dropped."""
    text = systems.received_caption(data + b"\0\0")
    assert isinstance(text, str) and not text.endswith("\0")


def test_an_empty_caption_or_a_negative_budget_is_refused():
    """Nothing to send or a negative cut raise ValueError."""
    with pytest.raises(ValueError, match="empty"):
        systems.caption_payload("")
    with pytest.raises(ValueError, match="max_bytes"):
        systems.caption_payload("a red circle", -1)
