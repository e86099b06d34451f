#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Per-burst estimate of the Doppler spread from the LS gains of the pilot blocks.

Model: Rayleigh fading with Jakes' spectrum, autocorrelation
E[h(t) h*(t + tau)] = S J0(2 pi fD tau), observed through anchors
g_i = h(t_i) + e_i with estimation noise of variance n_i (N0 / pilot symbols).
The structure function of the anchors at an index lag m is

    E|g_{i+m} - g_i|^2 = 2 S (1 - J0(2 pi fD tau_m)) + n_i + n_{i+m},

so d_m = (mean |g_{i+m} - g_i|^2 - mean(n_i + n_{i+m})) / (2 S) gives
2 pi fD tau_m by inverting 1 - J0 on its rising branch [0, 3.83]. Short lags
resolve fast fading, long lags slow fading: the estimator uses the longest
power-of-two lag before d_m first exceeds :data:`TARGET_STRUCTURE` (a
well-conditioned part of the curve), or lag 1 when even that one is above.

The filter is then designed for :data:`MARGIN` times the estimate
(:func:`design_doppler`): a Wiener filter designed for a faster channel than
the true one only lets a little more noise through, one designed for a slower
channel cannot follow the gain at all (Li, Cimini and Sollenberger, IEEE Trans.
Commun. 1998), so the estimate's error must fall on the safe side. The design
never goes below :data:`FLOOR` (a static burst's estimate is ~0 and the filter's
window, not its Doppler, then limits the averaging) nor above the Nyquist
limit of the anchors, 1 / (2 * spacing), beyond which they alias.
"""

import numpy as np
from scipy import special

#: Design Doppler = MARGIN x estimate: the estimates of 40 Jakes channels per fD*Ts (280 pilot
#: anchors, 0 and 20 dB) stayed within +-25 % of the truth; the margin costs ~0.1 dB against a
#: design at the true fD (docs/phy.md, "Continuous fading").
MARGIN = 1.5
#: Smallest design Doppler (fD*Ts).
FLOOR = 2e-4
#: Structure-function value up to which a longer lag is preferred.
TARGET_STRUCTURE = 0.5
#: Fewest anchor pairs a lag needs to be used.
MIN_PAIRS = 8

# 1 - J0(x) on its rising branch, tabulated for the inversion.
_X = np.linspace(0.0, special.jn_zeros(1, 1)[0], 2048)
_ONE_MINUS_J0 = 1.0 - special.j0(_X)


def estimate_doppler(times, gains, noise_vars):
    """Normalised Doppler fD*Ts of the fading seen by a set of anchors.

    Args:
        times: anchor positions in symbols, increasing and (nearly) evenly spaced.
        gains: complex LS gain of each anchor.
        noise_vars: estimation-noise variance of each anchor.

    Returns:
        float >= 0; 0 when the anchors look static. With fewer than
        MIN_PAIRS + 1 anchors nothing can be said: returns inf (the caller
        then designs for the fastest channel the anchors can follow).
    """
    times = np.asarray(times, dtype=np.float64)
    gains = np.asarray(gains, dtype=np.complex128)
    noise_vars = np.asarray(noise_vars, dtype=np.float64)
    n = gains.size
    if n < MIN_PAIRS + 1:
        return float("inf")
    signal_power = float(np.mean(np.abs(gains) ** 2) - np.mean(noise_vars))
    if signal_power <= 0:  # pure noise: no fading structure to measure
        return float("inf")
    lags = 2 ** np.arange(int(np.log2(n - MIN_PAIRS)) + 1)
    structure = np.array([
        (np.mean(np.abs(gains[m:] - gains[:-m]) ** 2) - np.mean(noise_vars[m:] + noise_vars[:-m]))
        / (2 * signal_power) for m in lags])
    # The last lag before the structure first exceeds the target (J0's later ripples, and those
    # of a finite sum of sinusoids, can bring a long lag back below it).
    above = np.flatnonzero(structure > TARGET_STRUCTURE)
    pick = max(above[0] - 1, 0) if above.size else lags.size - 1
    spread = np.interp(max(structure[pick], 0.0), _ONE_MINUS_J0, _X)
    lag_symbols = float(np.mean(times[lags[pick]:] - times[:-lags[pick]]))
    return float(spread / (2 * np.pi * lag_symbols))


def design_doppler(estimate, anchor_spacing):
    """Design Doppler of the Wiener filter for an estimate (see the module docstring).

    Args:
        estimate: ``estimate_doppler``'s result (inf = unknown).
        anchor_spacing: symbols between consecutive anchors (> 0).
    """
    if not anchor_spacing > 0:
        raise ValueError(f"anchor_spacing {anchor_spacing!r} must be > 0")
    nyquist = 0.5 / anchor_spacing
    return float(np.clip(MARGIN * estimate, min(FLOOR, nyquist), nyquist))
