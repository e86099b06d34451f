#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Uncoded bit error rate of Gray 8-PSK in AWGN and in flat Rayleigh fading.

Es/N0 convention of the whole PHY: unit average symbol energy Es = 1, complex
noise variance N0 = 10^(-EsN0_dB/10), and in fading the average over the gain
with E|h|^2 = 1 (so the instantaneous SNR is |h|^2 Es/N0, exponential in
Rayleigh).

The AWGN BER is exact (no union bound): the phase of r = sqrt(g) + w has the
density (g = Es/N0, a = sqrt(g) cos t)::

    p(t) = exp(-g) / (2 pi) + a / (2 sqrt(pi)) * exp(-g sin^2 t) * erfc(-a)

integrated over each decision sector and weighted by the Hamming distance
between the Gray labels that sector separates (averaged over the 8 symbols of
GNU Radio's constellation). Rayleigh averages that over an exponential SNR.
"""

import numpy as np
from scipy import integrate, special

from .mapping import LABELS, POINTS

_N_NODES = 64
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(_N_NODES)


def _mean_hamming_by_offset():
    """Average bit errors when the decision lands m sectors away, m = 0..7."""
    order = np.argsort(np.angle(POINTS))  # point indices counter-clockwise
    hamming = np.zeros(8)
    for m in range(8):
        shifted = np.roll(order, -m)
        hamming[m] = np.mean(np.sum(LABELS[order] != LABELS[shifted], axis=1))
    return hamming


_HAMMING = _mean_hamming_by_offset()


def _phase_pdf(theta, snr):
    a = np.sqrt(snr) * np.cos(theta)
    return (np.exp(-snr) / (2 * np.pi)
            + a / (2 * np.sqrt(np.pi)) * np.exp(-snr * np.sin(theta) ** 2) * special.erfc(-a))


def _ber_awgn_linear(snr):
    """Exact Gray 8-PSK BER at one linear Es/N0 (Gauss-Legendre per sector)."""
    ber = 0.0
    for m in range(1, 8):
        lo, hi = (2 * m - 1) * np.pi / 8, (2 * m + 1) * np.pi / 8
        theta = 0.5 * (hi - lo) * _NODES + 0.5 * (hi + lo)
        prob = 0.5 * (hi - lo) * np.sum(_WEIGHTS * _phase_pdf(theta, snr))
        ber += _HAMMING[m] * prob
    return ber / 3.0


def _check_db(esno_db):
    values = np.atleast_1d(np.asarray(esno_db, dtype=np.float64))
    if not np.all(np.isfinite(values)):
        raise ValueError(f"Es/N0 values must be finite, got {esno_db!r}")
    return values


def ber_8psk_awgn(esno_db):
    """Uncoded Gray 8-PSK bit error rate in AWGN.

    Args:
        esno_db: Es/N0 in dB, scalar or array.

    Returns:
        float or array like ``esno_db``.
    """
    values = _check_db(esno_db)
    result = np.array([_ber_awgn_linear(10 ** (v / 10)) for v in values])
    return float(result[0]) if np.ndim(esno_db) == 0 else result


def ber_8psk_rayleigh(esno_db):
    """Uncoded Gray 8-PSK bit error rate in flat Rayleigh fading (perfect CSI).

    Args:
        esno_db: average Es/N0 in dB (E|h|^2 = 1), scalar or array.
    """
    values = _check_db(esno_db)
    result = []
    for v in values:
        mean_snr = 10 ** (v / 10)
        value, _ = integrate.quad(lambda g: _ber_awgn_linear(g) * np.exp(-g / mean_snr) / mean_snr,
                                  0, np.inf, points=None, limit=200)
        result.append(value)
    result = np.array(result)
    return float(result[0]) if np.ndim(esno_db) == 0 else result
