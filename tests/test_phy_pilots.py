#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Pilot layout (gnuradio.uoisc.phy.pilots) and the burst layout around it, without a flowgraph."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gnuradio.uoisc.phy import burst, codes, framing, mapping, pilots

params = st.builds(pilots.PilotParams, st.integers(1, pilots.MAX_INTERVAL), st.integers(1, pilots.MAX_LENGTH))
n_data = st.integers(1, 5000)


@given(n_data, params)
def test_every_data_symbol_placed_exactly_once(n, p):
    """Data and pilot positions together cover the section exactly once, data in increasing order."""
    data = pilots.data_positions(n, p)
    pilot = pilots.pilot_positions(n, p).ravel()
    both = np.concatenate([data, pilot])
    assert np.array_equal(np.sort(both), np.arange(pilots.section_len(n, p)))
    assert np.all(np.diff(data) > 0)


@given(n_data, params)
def test_pilots_at_stated_positions(n, p):
    """Block j starts right after min((j+1)*interval, n) data symbols; the section ends with a block."""
    blocks = pilots.pilot_positions(n, p)
    assert blocks.shape == (-(-n // p.interval), p.length)
    for j, block in enumerate(blocks):
        data_before = min((j + 1) * p.interval, n)
        assert block[0] == data_before + j * p.length
        assert np.array_equal(block, block[0] + np.arange(p.length))
    assert blocks[-1, -1] == pilots.section_len(n, p) - 1


@given(st.integers(1, 3000), params, st.integers(0, 2**32 - 1))
def test_tx_insertion_and_rx_extraction_agree(n, p, seed):
    """The section TX builds gives back the data at RX's data positions and the known pilots at RX's
    pilot positions."""
    rng = np.random.default_rng(seed)
    data = mapping.POINTS[rng.integers(0, 8, n)]
    section = pilots.insert_pilots(data, p)
    assert np.array_equal(section[pilots.data_positions(n, p)], data)
    positions = pilots.pilot_positions(n, p)
    assert np.array_equal(section[positions], pilots.pilot_symbols(positions.shape[0], p))


def test_no_pilots_is_the_plain_payload():
    """PilotParams(0, 0) leaves the data section unchanged."""
    data = mapping.POINTS[np.arange(100) % 8]
    assert np.array_equal(pilots.insert_pilots(data, pilots.PilotParams()), data)
    assert pilots.pilot_positions(100, pilots.PilotParams()).shape == (0, 0)


@pytest.mark.parametrize("interval, length", [(64, 0), (0, 4), (-1, 4), (64, 16), (4096, 4), (64.0, 4)])
def test_bad_pilot_params_rejected(interval, length):
    """Half-disabled, negative, non-int or oversized pilot parameters raise ValueError naming them."""
    with pytest.raises(ValueError, match="pilot_"):
        pilots.PilotParams(interval, length)


def test_frame_layout_is_a_function_of_code_length_and_pilots():
    """The burst length from burst.burst_len equals the length of a built burst, for every code."""
    p = pilots.PilotParams(64, 4)
    for name in codes.list_codes():
        code = codes.get_code(name)
        coded = np.zeros(framing.n_codewords(1000, code.k) * code.n, np.uint8)
        header = framing.pack_header(framing.PhyHeader(1000, 0, 0, code.code_id, 64, 4))
        built = burst.build_burst(header, coded, code.n, 16, p, code.repeat)
        assert built.size == burst.burst_len(1000, code.n, code.k, 16, p, code.repeat)


def test_header_section_carries_its_fixed_pilots():
    """The known prefix is the preamble, then the header symbols with HEADER_PILOTS' blocks at their
    positions, whatever payload pilot layout the header announces; KNOWN_LEN is its length."""
    header = framing.pack_header(framing.PhyHeader(1000, 3, 0, 1, 128, 4))
    prefix = burst.known_prefix(header)
    assert prefix.size == burst.KNOWN_LEN == mapping.PREAMBLE_LEN + 640 + 20 * 2
    section = prefix[mapping.PREAMBLE_LEN:]
    assert np.array_equal(section[pilots.data_positions(640, burst.HEADER_PILOTS)], mapping.header_symbols(header))
    positions = pilots.pilot_positions(640, burst.HEADER_PILOTS)
    assert np.array_equal(section[positions], pilots.pilot_symbols(positions.shape[0], burst.HEADER_PILOTS))
