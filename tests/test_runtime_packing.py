"""uoisc_runtime.packing: the bit order of indices on the air, folding and erasures.

Expected values come from an independent bit-by-bit model written with Python
strings (``_reference_bits``), not from the numpy code under test.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from uoisc_runtime.packing import (PackingError, erased_indices, pack_indices, packed_bytes,
                                   unpack_indices)


def _reference_bits(indices, bits_per_index):
    """The contract in plain Python: each index MSB first, concatenated, zero-padded to bytes."""
    bits = "".join(format(int(i), f"0{bits_per_index}b") for i in indices)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[k:k + 8], 2) for k in range(0, len(bits), 8))


@st.composite
def _indices_and_width(draw):
    bits = draw(st.integers(1, 16))
    k = draw(st.integers(1, 1 << bits))
    values = draw(st.lists(st.integers(0, k - 1), max_size=80))
    return np.array(values, dtype=np.int64), bits, k


@settings(max_examples=300, deadline=None)
@given(_indices_and_width())
def test_round_trip_for_every_width_and_codebook(case):
    """pack then unpack returns the same indices, nothing folded, and the bytes are exactly
    the reference bit string, for bits_per_index 1..16 and any K <= 2**bits."""
    indices, bits, k = case
    data = pack_indices(indices, bits)
    assert data == _reference_bits(indices, bits)
    assert len(data) == packed_bytes(len(indices), bits) == math.ceil(len(indices) * bits / 8)
    back, folded = unpack_indices(data, len(indices), bits, k)
    assert back.dtype == np.int64 and np.array_equal(back, indices)
    assert not folded.any()


def test_worked_examples_of_the_docs():
    """K=256 (8 bits): [1, 255] -> 0x01 0xFF. K=300 (9 bits): [1, 299] -> 000000001 100101011
    + 6 zero pad bits = 0x00 0xCA 0xC0; the word 511 read back with K=300 folds to 211."""
    assert pack_indices(np.array([1, 255]), 8) == b"\x01\xff"
    assert pack_indices(np.array([1, 299]), 9) == bytes([0b00000000, 0b11001010, 0b11000000])
    indices, folded = unpack_indices(b"\xff\x80", 1, 9, 300)
    assert indices.tolist() == [211] and folded.tolist() == [True]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 16), st.data())
def test_words_at_or_above_k_fold_and_are_flagged(bits, data):
    """Arbitrary bytes (channel errors) unpack to indices in [0, K), never negative, equal to
    word % K, with exactly the words >= K flagged."""
    k = data.draw(st.integers(1, 1 << bits))
    n = data.draw(st.integers(0, 40))
    raw = data.draw(st.binary(min_size=packed_bytes(n, bits), max_size=packed_bytes(n, bits) + 3))
    indices, folded = unpack_indices(raw, n, bits, k)
    bit_string = "".join(format(b, "08b") for b in raw)
    words = [int(bit_string[i * bits:(i + 1) * bits], 2) for i in range(n)]
    assert indices.tolist() == [w % k for w in words]
    assert folded.tolist() == [w >= k for w in words]
    assert indices.size == 0 or (indices.min() >= 0 and indices.max() < k)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 16), st.integers(0, 40), st.integers(0, 9), st.data())
def test_erased_indices_match_a_bit_by_bit_model(bits, n, offset, data):
    """An index is erased exactly when one of its bits sits in a byte marked bad, counting
    bytes after the codec header offset (the reference walks every bit)."""
    total = offset + packed_bytes(n, bits) + data.draw(st.integers(0, 2))
    byte_ok = np.array(data.draw(st.lists(st.booleans(), min_size=total, max_size=total)), bool)
    expected = [any(not byte_ok[offset + bit // 8] for bit in range(i * bits, (i + 1) * bits))
                for i in range(n)]
    assert erased_indices(byte_ok, offset, n, bits).tolist() == expected


def test_short_data_and_bad_widths_raise_packing_error():
    """Too few bytes, widths outside 1..32 and indices that do not fit raise PackingError
    (a ValueError) naming the value."""
    with pytest.raises(PackingError, match="3 indices"):
        unpack_indices(b"\x00\x00", 3, 8, 256)
    for bad in (0, 33, -1, 2.5, True):
        with pytest.raises(PackingError, match="bits_per_index"):
            pack_indices(np.array([0]), bad)
    with pytest.raises(PackingError, match="256"):
        pack_indices(np.array([0, 256]), 8)
    with pytest.raises(PackingError, match="-1"):
        pack_indices(np.array([-1]), 8)
    with pytest.raises(PackingError, match="byte_ok"):
        erased_indices(np.ones(3, bool), 2, 2, 8)
    assert issubclass(PackingError, ValueError)


def test_32_bit_words_round_trip():
    """The widest width keeps every bit (no overflow in the word assembly)."""
    indices = np.array([0, 1, (1 << 32) - 1, 123456789], dtype=np.int64)
    back, folded = unpack_indices(pack_indices(indices, 32), 4, 32, 1 << 32)
    assert np.array_equal(back, indices) and not folded.any()


def test_multidimensional_indices_are_read_in_c_order():
    """An L x T x G array packs like its C-order ravel."""
    grid = np.arange(24).reshape(2, 3, 4)
    assert pack_indices(grid, 5) == pack_indices(grid.ravel(order="C"), 5)
