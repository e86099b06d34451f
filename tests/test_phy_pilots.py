#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Pilot layout (gnuradio.uoisc.phy.pilots) and the pilot channel estimator, without a flowgraph."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gnuradio.uoisc.phy import burst, codes, framing, mapping, pilots
from gnuradio.uoisc.phy.pilot_estimator import (HEADER_ANCHOR_LEN, check_doppler, estimate_section, interpolate_gains,
                                               wiener_smooth)

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
        assert burst.build_burst(header, coded, code.n, 16, p).size == burst.burst_len(1000, code.n, code.k, 16, p)


def test_interpolation_is_exact_for_a_linear_gain():
    """Linear interpolation reproduces a gain that is linear in time between the anchors."""
    t = np.array([-5.0, 10.0, 40.0])
    gains = (1 + 2j) + (0.01 - 0.03j) * t
    times = np.arange(-5, 41)
    assert np.allclose(interpolate_gains(t, gains, times), (1 + 2j) + (0.01 - 0.03j) * times)


def test_section_estimate_noiseless_ramp():
    """Noiseless, slowly turning gain (linear phase ramp over the section): the interpolated gains
    match the true gain within the curvature error of linear interpolation (< 1e-3)."""
    p = pilots.PilotParams(64, 4)
    n = 1000
    rng = np.random.default_rng(1)
    data = mapping.POINTS[rng.integers(0, 8, n)]
    section = pilots.insert_pilots(data, p)
    omega = 2 * np.pi * 1e-4
    t = np.arange(-HEADER_ANCHOR_LEN, section.size)
    h = 0.8 * np.exp(1j * omega * t)
    tail_ref = mapping.POINTS[rng.integers(0, 8, HEADER_ANCHOR_LEN)]
    gains, noise_var = estimate_section(h[HEADER_ANCHOR_LEN:] * section, h[:HEADER_ANCHOR_LEN] * tail_ref,
                                        tail_ref, p, n)
    true = h[HEADER_ANCHOR_LEN:][pilots.data_positions(n, p)]
    assert np.max(np.abs(gains - true)) < 1e-3
    assert noise_var < 1e-4


def test_section_estimate_noise_variance():
    """Static gain in noise: pooled N0 within 5 standard deviations (~N0 * sqrt(1/dof)) of the truth."""
    p = pilots.PilotParams(64, 4)
    n, n0, h = 6000, 0.1, 0.7 - 0.2j
    rng = np.random.default_rng(2)
    section = pilots.insert_pilots(mapping.POINTS[rng.integers(0, 8, n)], p)
    tail_ref = mapping.POINTS[rng.integers(0, 8, HEADER_ANCHOR_LEN)]
    noise = np.sqrt(n0 / 2) * (rng.standard_normal(section.size + HEADER_ANCHOR_LEN)
                               + 1j * rng.standard_normal(section.size + HEADER_ANCHOR_LEN))
    _, noise_var = estimate_section(h * section + noise[HEADER_ANCHOR_LEN:], h * tail_ref + noise[:HEADER_ANCHOR_LEN],
                                    tail_ref, p, n)
    dof = -(-n // 64) * 3 + HEADER_ANCHOR_LEN - 1
    assert abs(noise_var - n0) < 5 * n0 / np.sqrt(dof)


def test_section_estimate_rejects_wrong_length():
    """A section that does not fit the layout raises ValueError naming both lengths."""
    p = pilots.PilotParams(64, 4)
    ref = np.ones(HEADER_ANCHOR_LEN, complex)
    with pytest.raises(ValueError, match="layout needs"):
        estimate_section(np.ones(100, complex), ref, ref, p, 100)


def test_wiener_smoothing_cuts_noise_on_a_static_channel():
    """Static gain, anchors every 68 symbols with noise variance 0.05: the smoothed anchors' mean
    squared error is below half the raw one (the filter passes a band of 2 * 1e-3 * 68 = 14% of
    the anchor rate, so ~0.14 + edge effects is expected)."""
    rng = np.random.default_rng(3)
    times = np.arange(300) * 68.0
    noise_var = np.full(times.size, 0.05)
    h = 0.8 + 0.3j
    raw = h + np.sqrt(0.025) * (rng.standard_normal(times.size) + 1j * rng.standard_normal(times.size))
    smoothed = wiener_smooth(times, raw, noise_var)
    assert np.mean(np.abs(smoothed - h) ** 2) < 0.5 * np.mean(np.abs(raw - h) ** 2)


def test_wiener_smoothing_follows_a_gain_within_its_design_doppler():
    """A noiseless gain turning at fD*Ts = 5e-4 (below the 1e-3 design) is kept within 3%
    by the smoothing (a filter designed for a flat spectrum up to 1e-3 passes it)."""
    times = np.arange(100) * 68.0
    gains = np.exp(2j * np.pi * 5e-4 * times)
    smoothed = wiener_smooth(times, gains, np.full(times.size, 1e-4))
    assert np.max(np.abs(smoothed - gains)) < 0.03


@pytest.mark.parametrize("doppler", [0.0, -1e-3, 0.6])
def test_bad_pilot_doppler_rejected(doppler):
    """A design Doppler outside (0, 0.5] raises ValueError naming it."""
    with pytest.raises(ValueError, match="pilot doppler"):
        check_doppler(doppler)
