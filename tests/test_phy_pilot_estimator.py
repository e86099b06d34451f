#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Gains over a burst from its anchors (gnuradio.uoisc.phy.pilot_estimator), without a flowgraph."""

import numpy as np
import pytest

from gnuradio.uoisc.phy import burst, framing, mapping, pilots
from gnuradio.uoisc.phy.jakes import jakes_gains
from gnuradio.uoisc.phy.pilot_estimator import (AUTO, Anchors, check_doppler, estimate_section, header_estimate,
                                               parse_doppler, wiener_interpolate)

PARAMS = pilots.PilotParams(32, 2)
HEADER = framing.pack_header(framing.PhyHeader(1544, 7, 0, 1, PARAMS.interval, PARAMS.length))


def received_burst(n_data, gains_of, noise_var, rng):
    """(received known prefix, received section, true gain of each section symbol, prefix reference)."""
    data = mapping.POINTS[rng.integers(0, 8, n_data)]
    prefix_ref = burst.known_prefix(HEADER)
    sent = np.concatenate([prefix_ref, pilots.insert_pilots(data, PARAMS)])
    h = gains_of(sent.size)
    noise = np.sqrt(noise_var / 2) * (rng.standard_normal(sent.size) + 1j * rng.standard_normal(sent.size))
    received = h * sent + noise
    k = prefix_ref.size
    return received[:k], received[k:], h[k:], prefix_ref


def data_gain_error(result, h, n_data):
    """Mean squared error of the estimated data-symbol gains."""
    return float(np.mean(np.abs(result.gains - h[pilots.data_positions(n_data, PARAMS)]) ** 2))


def test_noiseless_slow_rotation_is_tracked_exactly():
    """Noiseless gain turning at fD*Ts = 1e-4, filter designed for 1e-3: gains within 1e-3, N0 ~ 0."""
    rng = np.random.default_rng(1)
    n = 1000
    prefix, section, h, ref = received_burst(n, lambda size: 0.8 * np.exp(2j * np.pi * 1e-4 * np.arange(size)),
                                             0.0, rng)
    result = estimate_section(section, prefix, ref, PARAMS, n, 1e-3)
    assert np.max(np.abs(result.gains - h[pilots.data_positions(n, PARAMS)])) < 1e-3
    assert result.noise_var < 1e-4


def test_pooled_noise_variance_on_a_static_channel():
    """Static gain, N0 = 0.1: pooled N0 within 5 standard deviations (N0 * sqrt(1 / dof), dof = one
    per 2-symbol pilot block) of the truth."""
    rng = np.random.default_rng(2)
    n, n0 = 6000, 0.1
    prefix, section, _, ref = received_burst(n, lambda size: np.full(size, 0.7 - 0.2j), n0, rng)
    result = estimate_section(section, prefix, ref, PARAMS, n)
    dof = -(-n // PARAMS.interval) * (PARAMS.length - 1)
    assert abs(result.noise_var - n0) < 5 * n0 / np.sqrt(dof)


def test_auto_on_a_static_channel_averages_the_whole_window():
    """Static gain at 0 dB: "auto" designs the FLOOR Doppler and the gain error is below N0 / 20 (the
    window's 32 pilot blocks hold 64 symbols: N0 / 64 if averaged uniformly, edges cost up to x3)."""
    rng = np.random.default_rng(3)
    n, n0 = 9000, 1.0
    prefix, section, h, ref = received_burst(n, lambda size: np.full(size, 0.6 + 0.5j), n0, rng)
    result = estimate_section(section, prefix, ref, PARAMS, n, AUTO)
    assert data_gain_error(result, h, n) < n0 / 20


def test_auto_tracks_fast_fading_and_reports_its_error():
    """Jakes fading at fD*Ts = 1e-2, 20 dB: the "auto" gains are 20x closer to the truth than with a
    filter designed for 1e-3, and the MSE the estimator reports (symbol_noise - N0) is within a
    factor 3 of the measured one (it is computed for the design Doppler, 1.5x the estimate)."""
    rng = np.random.default_rng(4)
    n, n0 = 9000, 0.01
    prefix, section, h, ref = received_burst(n, lambda size: jakes_gains(size, 1e-2, rng), n0, rng)
    auto = estimate_section(section, prefix, ref, PARAMS, n, AUTO)
    slow = estimate_section(section, prefix, ref, PARAMS, n, 1e-3)
    measured = data_gain_error(auto, h, n)
    assert measured * 20 < data_gain_error(slow, h, n)
    reported = float(np.mean(auto.symbol_noise - auto.noise_var))
    assert measured / 3 < reported < measured * 3
    assert auto.doppler > 1e-2


def test_wiener_interpolation_is_exact_between_noiseless_anchors_of_a_constant():
    """Anchors of a constant gain with tiny noise: every target gets that gain and a ~0 MSE."""
    times = np.arange(40) * 34.0
    anchors = Anchors(times, np.full(40, 0.3 - 0.4j), np.full(40, 1e-9))
    gains, mse = wiener_interpolate(anchors, np.arange(0, 1300, 7.0), 1e-4)
    assert np.allclose(gains, 0.3 - 0.4j, atol=1e-4)
    assert np.all(mse < 1e-6)


def test_header_gains_tracked_through_fast_fading():
    """Header section under Jakes fading at 1e-2, 20 dB: the per-symbol gains from the preamble and
    the header pilots combine the 8 copies into the right 80 header bits."""
    rng = np.random.default_rng(5)
    prefix_ref = burst.known_prefix(HEADER)
    h = jakes_gains(prefix_ref.size, 1e-2, rng)
    received = h * prefix_ref + np.sqrt(0.005) * (rng.standard_normal(h.size) + 1j * rng.standard_normal(h.size))
    plen = mapping.PREAMBLE_LEN
    gains, symbol_noise = header_estimate(received[:plen], received[plen:])
    symbols = received[plen:][pilots.data_positions(mapping.HEADER_SYMBOLS, burst.HEADER_PILOTS)]
    soft = mapping.header_soft_bits(symbols * np.conj(gains) / symbol_noise)
    assert np.array_equal((soft < 0).astype(np.uint8), np.unpackbits(np.frombuffer(HEADER, np.uint8)))


def test_section_of_the_wrong_length_rejected():
    """A section that does not fit the layout raises ValueError naming both lengths."""
    prefix = burst.known_prefix(HEADER)
    with pytest.raises(ValueError, match="layout needs"):
        estimate_section(np.ones(100, complex), prefix, prefix, PARAMS, 100)


@pytest.mark.parametrize("value, expected", [("auto", AUTO), (" AUTO ", AUTO), ("1e-3", 1e-3), (0.01, 0.01)])
def test_parse_doppler(value, expected):
    """A user's pilot Doppler: "auto" (any case) or a number, as text or number."""
    assert parse_doppler(value) == expected


@pytest.mark.parametrize("doppler", [0.0, -1e-3, 0.6, "fast", None])
def test_bad_pilot_doppler_rejected(doppler):
    """A design Doppler outside (0, 0.5] that is not "auto" raises ValueError naming it."""
    with pytest.raises(ValueError, match="pilot doppler"):
        parse_doppler(doppler)
    if not isinstance(doppler, (str, type(None))):
        with pytest.raises(ValueError, match="pilot doppler"):
            check_doppler(doppler)
