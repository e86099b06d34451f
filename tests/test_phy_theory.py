#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Uncoded Gray 8-PSK BER theory (gnuradio.uoisc.phy.theory) against Monte Carlo."""

import numpy as np
import pytest
from scipy import special

from gnuradio.uoisc.phy import demapper, mapping, theory

N_SYMBOLS = 200_000


def simulate_ber(esno_db, rayleigh, seed):
    """Monte Carlo BER of Gray 8-PSK with perfect CSI, hard decisions from the demapper."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, 3 * N_SYMBOLS).astype(np.uint8)
    n0 = 10 ** (-esno_db / 10)
    h = ((rng.standard_normal(N_SYMBOLS) + 1j * rng.standard_normal(N_SYMBOLS)) / np.sqrt(2)
         if rayleigh else np.ones(N_SYMBOLS))
    noise = np.sqrt(n0 / 2) * (rng.standard_normal(N_SYMBOLS) + 1j * rng.standard_normal(N_SYMBOLS))
    z = (h * mapping.map_8psk(bits) + noise) / h
    decided = demapper.maxlog_llr(z, 1.0) > 0
    return np.mean(decided != bits)


@pytest.mark.parametrize("esno_db", [0.0, 5.0, 10.0])
@pytest.mark.parametrize("rayleigh", [False, True])
def test_theory_matches_monte_carlo(esno_db, rayleigh):
    """Theory is within 5 binomial standard deviations (+2% for bit correlation) of simulation."""
    expected = (theory.ber_8psk_rayleigh if rayleigh else theory.ber_8psk_awgn)(esno_db)
    measured = simulate_ber(esno_db, rayleigh, seed=int(esno_db) + 10 * rayleigh)
    sigma = np.sqrt(expected * (1 - expected) / (3 * N_SYMBOLS))
    assert abs(measured - expected) <= 5 * sigma + 0.02 * expected


def test_high_snr_awgn_matches_nearest_neighbour_bound():
    """At 20 dB the exact AWGN BER equals (2/3) Q(sqrt(2 Es/N0) sin(pi/8)) within 1%."""
    snr = 100.0
    approx = (2 / 3) * 0.5 * special.erfc(np.sqrt(snr) * np.sin(np.pi / 8))
    assert theory.ber_8psk_awgn(20.0) == pytest.approx(approx, rel=0.01)


def test_rayleigh_decays_as_one_over_snr():
    """In Rayleigh the BER falls by ~10x per 10 dB at high SNR (diversity order 1)."""
    ratio = theory.ber_8psk_rayleigh(20.0) / theory.ber_8psk_rayleigh(30.0)
    assert 9 < ratio < 11


def test_vector_input_and_bad_values():
    """Arrays give arrays, scalars give floats, non-finite values raise ValueError."""
    assert isinstance(theory.ber_8psk_awgn(3.0), float)
    assert theory.ber_8psk_awgn([0.0, 5.0]).shape == (2,)
    with pytest.raises(ValueError):
        theory.ber_8psk_rayleigh(float("nan"))
