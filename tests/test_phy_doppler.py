#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Per-burst Doppler estimate from pilot gains (gnuradio.uoisc.phy.doppler), on the numpy Jakes model."""

import numpy as np
import pytest

from gnuradio.uoisc.phy import doppler
from gnuradio.uoisc.phy.jakes import jakes_gains

SPACING = 34  # the default pilot layout's anchor spacing (32 data + 2 pilots)
N_ANCHORS = 280  # anchors of a 1544-byte frame


def anchors(fd, noise_var, seed):
    """Pilot-like anchors of a Jakes channel: times, noisy gains, noise variances."""
    rng = np.random.default_rng(seed)
    times = np.arange(N_ANCHORS) * SPACING
    gains = jakes_gains(times[-1] + 1, fd, rng)[times]
    noise = np.sqrt(noise_var / 2) * (rng.standard_normal(N_ANCHORS) + 1j * rng.standard_normal(N_ANCHORS))
    return times, gains + noise, np.full(N_ANCHORS, noise_var)


@pytest.mark.parametrize("fd", [3e-4, 2e-3, 1e-2])
@pytest.mark.parametrize("noise_var", [0.005, 0.5])
def test_estimate_is_close_to_the_true_doppler(fd, noise_var):
    """At 20 and 0 dB per pilot symbol pair, the median estimate over 8 channels is within 15 % of
    fD (the estimator inverts the J0 autocorrelation of the model) and the design Doppler
    (MARGIN x estimate, Nyquist-capped) is never below the true fD."""
    estimates = [doppler.estimate_doppler(*anchors(fd, noise_var, seed)) for seed in range(8)]
    assert abs(np.median(estimates) - fd) < 0.15 * fd
    assert all(doppler.design_doppler(e, SPACING) >= min(fd, 0.5 / SPACING) for e in estimates)


def test_static_channel_gets_the_floor():
    """A constant gain (block fading) is estimated as (almost) static: the design is the FLOOR."""
    for seed in range(4):
        estimate = doppler.estimate_doppler(*anchors(0.0, 0.05, seed))
        assert doppler.design_doppler(estimate, SPACING) == doppler.FLOOR


def test_unknown_doppler_gets_the_nyquist_limit():
    """Too few anchors, or anchors that are pure noise, give inf: designed for 1 / (2 * spacing)."""
    times, gains, noise = anchors(1e-3, 0.01, 0)
    assert doppler.estimate_doppler(times[:doppler.MIN_PAIRS], gains[:doppler.MIN_PAIRS],
                                    noise[:doppler.MIN_PAIRS]) == np.inf
    assert doppler.estimate_doppler(times, np.zeros(N_ANCHORS), noise) == np.inf
    assert doppler.design_doppler(np.inf, SPACING) == 0.5 / SPACING


def test_bad_spacing_rejected():
    """A non-positive anchor spacing raises ValueError naming it."""
    with pytest.raises(ValueError, match="anchor_spacing"):
        doppler.design_doppler(1e-3, 0)
