#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Frame bit interleaver (gnuradio.uoisc.phy.interleaver)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gnuradio.uoisc.phy import interleaver

frames = st.tuples(st.integers(1, 300), st.integers(1, 12), st.integers(0, 2**32 - 1))


@given(frames)
def test_deinterleave_inverts_interleave(frame):
    """deinterleave(interleave(x)) == x for any whole number of codewords."""
    n, n_cw, seed = frame
    bits = np.random.default_rng(seed).integers(0, 2, n * n_cw).astype(np.uint8)
    out = interleaver.interleave(bits, n)
    assert sorted(out.tolist()) == sorted(bits.tolist())
    assert np.array_equal(interleaver.deinterleave(out, n), bits)


@given(frames)
def test_codewords_alternate_in_the_burst(frame):
    """Each block of n_cw burst positions carries one bit of every codeword: bit j of codeword
    i at slot i, or (i + j) mod n_cw when n_cw is a multiple of 3 (independent model of the
    read-out): every codeword is spread evenly over the whole burst."""
    n, n_cw, _ = frame
    owner = np.repeat(np.arange(n_cw), n)  # codeword index of each coded bit, codeword order
    expected = np.empty((n, n_cw), dtype=int)
    for j in range(n):
        for i in range(n_cw):
            expected[j, (i + j) % n_cw if n_cw % 3 == 0 else i] = i
    assert np.array_equal(interleaver.interleave(owner, n), expected.ravel())


@given(st.integers(3, 300), st.integers(1, 12))
def test_every_codeword_uses_every_8psk_label_position_evenly(n, n_cw):
    """Burst bit p is label bit p mod 3 of its 8-PSK symbol. The three label bits of Gray
    8-PSK differ in reliability, so each codeword must see each of them for a third of its
    bits (within one), whatever the number of codewords — also a multiple of 3."""
    owner = interleaver.interleave(np.repeat(np.arange(n_cw), n), n)
    label_position = np.arange(n * n_cw) % 3
    for codeword in range(n_cw):
        counts = np.bincount(label_position[owner == codeword], minlength=3)
        assert counts.max() - counts.min() <= 1, (codeword, counts)


def test_one_codeword_is_permuted():
    """A one-codeword frame is still permuted (a fade does not erase consecutive code bits)."""
    bits = np.arange(1800)
    out = interleaver.interleave(bits, 1800)
    assert not np.array_equal(out, bits)
    assert np.array_equal(np.sort(out), bits)


@pytest.mark.parametrize("function", [interleaver.interleave, interleaver.deinterleave])
def test_partial_codeword_rejected(function):
    """A length that is not a multiple of n raises ValueError naming it."""
    with pytest.raises(ValueError, match="1801"):
        function(np.zeros(1801), 1800)
