#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""BICM capacity and outage references (gnuradio.uoisc.phy.capacity)."""

import numpy as np
import pytest

from gnuradio.uoisc.phy import capacity


def test_capacity_limits_and_order():
    """AWGN: ~3 bits at 25 dB, below log2(1 + Es/N0) everywhere, increasing with Es/N0; Rayleigh
    (ergodic, same average SNR) below AWGN (Jensen)."""
    awgn = [capacity.bicm_capacity(e, "awgn", n_samples=20_000) for e in (-5.0, 0.0, 5.0, 10.0, 25.0)]
    assert awgn[-1] == pytest.approx(3.0, abs=0.01)
    assert np.all(np.diff(awgn) > 0)
    for e, c in zip((-5.0, 0.0, 5.0, 10.0), awgn):
        assert c < np.log2(1 + 10 ** (e / 10)) + 0.01
    assert capacity.bicm_capacity(5.0, "rayleigh", n_samples=20_000) < awgn[2]


def test_threshold_inverts_the_capacity():
    """The threshold of a rate is where the capacity equals it (within the bisection tolerance)."""
    threshold = capacity.threshold_db(1.5, "awgn")
    assert capacity.bicm_capacity(threshold - 0.05) < 1.5 < capacity.bicm_capacity(threshold + 0.05)


def test_block_outage_matches_exponential_gains():
    """The outage of Rayleigh block fading equals the fraction of CN(0, 1) gains with
    |h|^2 Es/N0 below the threshold (Monte Carlo, 5 binomial standard deviations)."""
    rng = np.random.default_rng(1)
    power = np.abs((rng.standard_normal(100_000) + 1j * rng.standard_normal(100_000)) / np.sqrt(2)) ** 2
    expected = capacity.block_outage(10.0, 6.0)
    measured = np.mean(10 * np.log10(power) + 10.0 < 6.0)
    assert abs(measured - expected) < 5 * np.sqrt(expected * (1 - expected) / power.size)


@pytest.mark.parametrize("kwargs, match", [({"esno_db": 1.0, "fading": "rician"}, "fading"),
                                           ({"esno_db": float("inf")}, "esno_db")])
def test_bad_arguments_rejected(kwargs, match):
    """Unknown fading or non-finite Es/N0 raise ValueError naming them; a rate outside (0, 3) too."""
    with pytest.raises(ValueError, match=match):
        capacity.bicm_capacity(**kwargs)
    with pytest.raises(ValueError, match="rate_bits"):
        capacity.threshold_db(3.0)
