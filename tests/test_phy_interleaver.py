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
    """Position p of the burst carries a bit of codeword p mod n_cw: every codeword is spread
    evenly over the whole burst (independent model of the column read-out)."""
    n, n_cw, _ = frame
    owner = np.repeat(np.arange(n_cw), n)  # codeword index of each coded bit, codeword order
    assert np.array_equal(interleaver.interleave(owner, n), np.arange(n * n_cw) % n_cw)


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
