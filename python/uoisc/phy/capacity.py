#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Information-theoretic reference points of the PHY: BICM capacity and block-fading outage.

Same Es/N0 convention as the rest of the PHY (Es = 1, complex noise variance N0,
E|h|^2 = 1, perfect CSI at the receiver).

- :func:`bicm_capacity`: the capacity of bit-interleaved coded modulation with
  Gray 8-PSK (what an ideal binary code + the burst interleaver + per-bit LLRs
  can reach), C = 3 - sum_b E[log2(sum_x p(y|x) / sum_{x: bit b = label_b} p(y|x))],
  by Monte Carlo with a fixed seed (common random numbers, so it is a smooth,
  monotone function of Es/N0). With Rayleigh fading that changes from symbol
  to symbol it is the *ergodic* capacity: the limit when the interleaver spreads
  every codeword over many fades (fast fading).
- :func:`threshold_db`: the Es/N0 at which that capacity equals a code's rate
  (bits per symbol): no code of that rate works below it.
- :func:`block_outage`: with one gain per codeword (block fading) a codeword fails
  when |h|^2 Es/N0 falls below the code's threshold on a static channel:
  P = 1 - exp(-threshold / (Es/N0)) for Rayleigh.
"""

import numpy as np

from .mapping import LABELS, POINTS

#: Monte Carlo samples of the capacity estimate (its error is ~0.01 bit).
N_SAMPLES = 100_000
FADINGS = ("awgn", "rayleigh")


def bicm_capacity(esno_db, fading="awgn", n_samples=N_SAMPLES, seed=0):
    """BICM capacity of Gray 8-PSK, bits per symbol.

    Args:
        esno_db: Es/N0 in dB (the average over fading).
        fading: "awgn" or "rayleigh" (ergodic: an independent gain per symbol).
        n_samples: Monte Carlo samples.
        seed: seed of the samples.
    """
    if fading not in FADINGS:
        raise ValueError(f"fading {fading!r} not in {FADINGS}")
    if not np.isfinite(esno_db):
        raise ValueError(f"esno_db {esno_db!r} must be finite")
    rng = np.random.default_rng(seed)
    n0 = 10 ** (-esno_db / 10)
    sent = rng.integers(0, 8, n_samples)
    h = ((rng.standard_normal(n_samples) + 1j * rng.standard_normal(n_samples)) / np.sqrt(2)
         if fading == "rayleigh" else np.ones(n_samples))
    noise = np.sqrt(n0 / 2) * (rng.standard_normal(n_samples) + 1j * rng.standard_normal(n_samples))
    y = h * POINTS[sent] + noise
    # log p(y | x) up to a constant, for every candidate point: (samples, 8)
    log_p = -np.abs(y[:, None] - h[:, None] * POINTS[None, :]) ** 2 / n0
    log_all = np.logaddexp.reduce(log_p, axis=1)
    loss = 0.0
    for b in range(3):  # per bit position, vectorised over samples
        same = LABELS[:, b][None, :] == LABELS[sent, b][:, None]  # points sharing the sent bit
        log_same = np.logaddexp.reduce(np.where(same, log_p, -np.inf), axis=1)
        loss += np.mean(log_all - log_same) / np.log(2)
    return float(3 - loss)


def threshold_db(rate_bits, fading="awgn", lo_db=-10.0, hi_db=40.0, tol_db=0.01):
    """Es/N0 (dB) at which :func:`bicm_capacity` equals ``rate_bits`` (bisection).

    Raises:
        ValueError: rate outside (0, 3).
    """
    if not 0 < rate_bits < 3:
        raise ValueError(f"rate_bits {rate_bits!r} must be in (0, 3) for 8-PSK")
    while hi_db - lo_db > tol_db:
        mid = 0.5 * (lo_db + hi_db)
        if bicm_capacity(mid, fading) < rate_bits:
            lo_db = mid
        else:
            hi_db = mid
    return 0.5 * (lo_db + hi_db)


def block_outage(esno_db, threshold):
    """Probability that |h|^2 Es/N0 < threshold (both in dB) for Rayleigh block fading."""
    esno_db = np.asarray(esno_db, dtype=np.float64)
    result = 1 - np.exp(-10 ** ((threshold - esno_db) / 10))
    return float(result) if result.ndim == 0 else result
