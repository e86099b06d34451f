#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Preamble detection by normalised correlation (vectorised numpy).

metric[i] = |sum_j conj(p[j]) x[i + j]|^2 / (sum|p|^2 * sum_j |x[i + j]|^2)

is in [0, 1], independent of the channel gain and of the noise level, and is 1
for a noiseless preamble at i. With Es/N0 = g on the preamble its expected
value is about g / (1 + g) (0.5 at 0 dB), while for random 8-PSK data or noise
it is about 1 / 64.

Under fast fading the gain turns during the 64 preamble symbols and the
coherent sum cancels itself (mean metric x0.54 at fD*Ts = 1e-2, from the Jakes
autocorrelation). With ``segments`` = S the preamble is cut into S parts whose
correlations are added in power (each part coherent, the parts not):

metric[i] = S * sum_s |c_s[i]|^2 / (sum|p|^2 * sum_j |x[i + j]|^2),

still in [0, 1], 1 for a noiseless preamble, about g / (1 + g) on a static
channel, about S / 64 for data or noise; the burst search uses
:data:`SEARCH_SEGMENTS` (mean x0.85 at 1e-2).
"""

import numpy as np
from scipy import signal

#: Default detection threshold on the metric.
DEFAULT_THRESHOLD = 0.3
#: Preamble parts combined in power by the burst search (Doppler tolerance vs noise floor 2/64).
SEARCH_SEGMENTS = 2


def correlation_metric(x, preamble, segments=1):
    """Normalised correlation metric of every full window of ``x`` (see the module docstring).

    Args:
        x: complex samples.
        preamble: the known sequence p.
        segments: parts of p correlated coherently and added in power (divides len(p)).
    """
    x = np.asarray(x, dtype=np.complex64)
    p = np.asarray(preamble, dtype=np.complex64)
    if segments < 1 or p.size % segments:
        raise ValueError(f"segments {segments!r} must be >= 1 and divide the preamble length {p.size}")
    if x.size < p.size:
        return np.zeros(0, dtype=np.float32)
    n_windows = x.size - p.size + 1
    part = p.size // segments
    energy = np.zeros(n_windows)
    for s in range(segments):  # a few FFT correlations, one per preamble part
        corr = signal.fftconvolve(x, np.conj(p[s * part:(s + 1) * part][::-1]), mode="valid")
        energy += np.abs(corr[s * part:s * part + n_windows]) ** 2
    power = np.concatenate([[0.0], np.cumsum(np.abs(x) ** 2, dtype=np.float64)])
    window = power[p.size:] - power[:-p.size]
    denom = np.sum(np.abs(p) ** 2) * window / segments
    metric = np.zeros(n_windows, dtype=np.float32)
    live = denom > 1e-12
    metric[live] = energy[live] / denom[live]
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
