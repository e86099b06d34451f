#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Reference numpy model of continuous flat Rayleigh fading with Jakes' spectrum.

h(t) = sum_m exp(j (2 pi fD cos(a_m) t + phi_m)) / sqrt(M) with random arrival
angles a_m and phases phi_m: E|h|^2 = 1, autocorrelation -> J0(2 pi fD tau) for
many sinusoids. The flowgraph's channel uses GNU Radio's ``channels.fading_model``
(8 sinusoids); this model lets the receiver's numerics (``doppler``,
``pilot_estimator``) be tested and studied without a flowgraph.
"""

import numpy as np

#: Sinusoids of the model (enough for the autocorrelation to be close to J0 over a burst).
DEFAULT_SINUSOIDS = 64


def jakes_gains(n, doppler, rng, n_sinusoids=DEFAULT_SINUSOIDS):
    """``n`` successive complex gains at normalised Doppler ``doppler`` (fD*Ts).

    Args:
        n: number of samples.
        doppler: fD*Ts >= 0; 0 gives one constant CN(0, 1) gain (block fading).
        rng: a ``numpy.random.Generator``.
        n_sinusoids: sinusoids summed.
    """
    if doppler < 0:
        raise ValueError(f"doppler {doppler!r} must be >= 0")
    if doppler == 0:
        return np.full(n, (rng.standard_normal() + 1j * rng.standard_normal()) / np.sqrt(2))
    angles = rng.uniform(0, 2 * np.pi, n_sinusoids)
    phases = rng.uniform(0, 2 * np.pi, n_sinusoids)
    t = np.arange(n)
    return np.exp(1j * (2 * np.pi * doppler * np.cos(angles)[:, None] * t + phases[:, None])).sum(axis=0) \
        / np.sqrt(n_sinusoids)
