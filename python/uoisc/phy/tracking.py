#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Decision-directed tracking of a slowly varying flat channel gain.

The preamble + header estimate is exact for block fading but goes stale within
a long burst under Doppler (``channels.fading_model``). Tracking splits the
payload into segments of ``segment_len`` symbols and walks forward: each
segment is equalised with the previous segment's gain, hard-decided to the
nearest 8-PSK point, and its gain re-estimated by least squares against those
decisions. The segment gains are smoothed over 3 segments and linearly
interpolated to every symbol.

Costs and risks: the per-segment estimate is noisier than the 576-symbol
preamble + header estimate (std sqrt(N0 / segment_len)), and a segment in a
deep fade can slip the phase by a multiple of pi/4 (8-PSK decisions cannot tell)
for the rest of the burst; hence it is off by default and meant for Doppler.
"""

import numpy as np

from .mapping import POINTS

#: Shortest useful segment: below it the decision-directed estimate is too noisy.
MIN_SEGMENT_LEN = 8


def hard_decisions(z):
    """Nearest 8-PSK point of each equalised symbol."""
    return POINTS[np.argmin(np.abs(np.asarray(z)[:, None] - POINTS[None, :]), axis=1)]


def track_gain(received, h0, segment_len):
    """Per-symbol channel gains of ``received`` by decision-directed LS.

    Args:
        received: complex payload symbols r = h(t) x + w.
        h0: gain known just before the payload (preamble + header estimate).
        segment_len: symbols per tracking segment (>= MIN_SEGMENT_LEN).

    Returns:
        complex array of len(received) gains.
    """
    if segment_len < MIN_SEGMENT_LEN:
        raise ValueError(f"segment_len {segment_len} must be >= {MIN_SEGMENT_LEN}")
    r = np.asarray(received, dtype=np.complex128)
    if r.size == 0:
        return r
    n_seg = -(-r.size // segment_len)
    seg_gains = np.empty(n_seg, dtype=np.complex128)
    h = complex(h0)
    for i in range(n_seg):  # per segment (tens of symbols), not per sample
        chunk = r[i * segment_len:(i + 1) * segment_len]
        decided = hard_decisions(chunk / h) if h != 0 else POINTS[np.zeros(chunk.size, int)]
        h = np.vdot(decided, chunk) / np.vdot(decided, decided).real
        seg_gains[i] = h
    smoothed = np.convolve(np.pad(seg_gains, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    centres = np.minimum(np.arange(n_seg) * segment_len + (segment_len - 1) / 2, r.size - 1)
    t = np.arange(r.size)
    return np.interp(t, centres, smoothed.real) + 1j * np.interp(t, centres, smoothed.imag)
