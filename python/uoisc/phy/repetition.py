#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Symbol repetition for the low-SNR modes: r copies of the data block, combined by MRC.

A code registered with ``repeat`` = r (``codes``, e.g. ``n1800_k902x4``) sends
its interleaved, Gray-mapped data symbols r times in a row (the pilots are then
inserted over the whole block, so every copy has its own gain anchors). This
is the spreading of DVB-S2X's very-low-SNR modes: at low SNR the capacity of
the channel is nearly linear in the SNR, so r copies cost almost nothing
against a code of rate R / r, and they reuse the LDPC code whose decoder is
already tuned. The receiver combines the copies coherently, each with its own
gain and noise (maximum-ratio combining):

    z = sum_i conj(h_i) y_i / s_i  /  sum_i |h_i|^2 / s_i,   s_z = 1 / sum_i |h_i|^2 / s_i

so the equalised symbol z has r times the SNR of one copy on a static
channel (10 log10 r dB: 6 dB for r = 4), and under fading the copies, spread
over the burst, add time diversity. ``z`` and ``s_z`` go to the usual
max-log demapper.
"""

import numpy as np


def check_repeat(repeat):
    """Return ``repeat`` as an int, or raise ValueError unless it is an int >= 1."""
    if not isinstance(repeat, (int, np.integer)) or isinstance(repeat, bool) or repeat < 1:
        raise ValueError(f"repeat {repeat!r} must be an int >= 1")
    return int(repeat)


def repeat_symbols(symbols, repeat):
    """The data block sent ``repeat`` times in a row."""
    return np.tile(np.asarray(symbols, dtype=np.complex64), check_repeat(repeat))


def combine(received, gains, noise_var, repeat):
    """Maximum-ratio combining of the copies of a repeated data block.

    Args:
        received: the ``repeat`` * m received data symbols, copy after copy.
        gains: the complex channel gain of each of them (same shape).
        noise_var: their complex noise variance, a scalar or one per symbol (> 0).
        repeat: number of copies r.

    Returns:
        (equalised symbols, noise variance after equalisation), m values each: what
        ``demapper.maxlog_llr`` takes (for r = 1, received / gains and noise_var / |gains|^2).

    Raises:
        ValueError: the lengths do not split into ``repeat`` copies.
    """
    repeat = check_repeat(repeat)
    received = np.asarray(received, dtype=np.complex128).ravel()
    gains = np.asarray(gains, dtype=np.complex128).ravel()
    if received.size != gains.size or received.size % repeat:
        raise ValueError(f"{received.size} symbols and {gains.size} gains do not form {repeat} equal copies")
    noise_var = np.broadcast_to(np.asarray(noise_var, dtype=np.float64), received.shape)
    weights = np.conj(gains) / noise_var
    matched = (weights * received).reshape(repeat, -1).sum(axis=0)
    # Floor as the receiver does for one gain: a copy in a null contributes nothing, not a division by 0.
    snr = np.maximum((np.abs(gains) ** 2 / noise_var).reshape(repeat, -1).sum(axis=0), 1e-12)
    return (matched / snr).astype(np.complex64), 1.0 / snr
