#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Preamble detection by normalised correlation (vectorised numpy).

metric[i] = |sum_j conj(p[j]) x[i + j]|^2 / (sum|p|^2 * sum_j |x[i + j]|^2)

is in [0, 1], independent of the channel gain and of the noise level, and is 1
for a noiseless preamble at i. With Es/N0 = g on the preamble its expected
value is about g / (1 + g) (0.5 at 0 dB), while for random 8-PSK data or noise
it is about 1 / 64.
"""

import numpy as np
from scipy import signal

#: Default detection threshold on the metric.
DEFAULT_THRESHOLD = 0.3


def correlation_metric(x, preamble):
    """Normalised correlation metric of every full window of ``x``."""
    x = np.asarray(x, dtype=np.complex64)
    p = np.asarray(preamble, dtype=np.complex64)
    if x.size < p.size:
        return np.zeros(0, dtype=np.float32)
    corr = signal.fftconvolve(x, np.conj(p[::-1]), mode="valid")
    power = np.concatenate([[0.0], np.cumsum(np.abs(x) ** 2, dtype=np.float64)])
    window = power[p.size:] - power[:-p.size]
    denom = np.sum(np.abs(p) ** 2) * window
    metric = np.zeros(corr.size, dtype=np.float32)
    live = denom > 1e-12
    metric[live] = np.abs(corr[live]) ** 2 / denom[live]
    return metric


def find_preamble(metric, threshold, preamble_len):
    """Locate the first preamble: first threshold crossing, refined to the local maximum.

    Returns:
        (index, complete): ``index`` is None when nothing crosses the
        threshold; ``complete`` is False when the refinement window
        (``preamble_len`` metrics after the crossing) is not all there yet,
        in which case ``index`` is the crossing and the caller should wait.
    """
    above = np.flatnonzero(metric >= threshold)
    if above.size == 0:
        return None, True
    first = int(above[0])
    if first + preamble_len > metric.size:
        return first, False
    return first + int(np.argmax(metric[first:first + preamble_len])), True
