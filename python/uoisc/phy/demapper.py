#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Soft max-log demapping of Gray 8-PSK to LLRs for gr-fec's LDPC decoder.

Convention: LLR = log P(bit=1) / P(bit=0), i.e. *positive means bit 1*, which is
what ``fec.ldpc_decoder`` expects (it is used with sigma = sqrt(0.5) so its
input acts as a natural LLR). With an equalised symbol z = r / h and the
noise variance after equalisation s2 = N0 / |h|^2 (complex, Es = 1)::

    LLR_b = (min_{x: b=0} |z - x|^2 - min_{x: b=1} |z - x|^2) / s2

Guards for the decoder: clip to +-:data:`LLR_CLIP` and keep
|LLR| >= :data:`LLR_MIN_ABS`, because an exact 0 makes the stock decoder
divide by tanh(0) and output a NaN frame.
"""

import numpy as np

from .mapping import LABELS, POINTS

LLR_CLIP = 20.0
LLR_MIN_ABS = 1e-3


def guard_llr(llr):
    """Clip to +-LLR_CLIP, push values closer to 0 than LLR_MIN_ABS out to it and
    turn NaN (from non-finite input samples) into that near-erasure too."""
    llr = np.nan_to_num(np.asarray(llr, dtype=np.float32), nan=LLR_MIN_ABS)
    llr = np.clip(llr, -LLR_CLIP, LLR_CLIP)
    tiny = np.abs(llr) < LLR_MIN_ABS
    llr[tiny] = np.where(llr[tiny] < 0, -LLR_MIN_ABS, LLR_MIN_ABS)
    return llr


def maxlog_llr(equalised, noise_var):
    """Max-log LLRs of Gray 8-PSK symbols, 3 per symbol, MSB first, guarded.

    Args:
        equalised: complex symbols already divided by the channel gain.
        noise_var: complex noise variance after equalisation (scalar or one
            value per symbol), > 0.

    Returns:
        float32 array of 3 * len(equalised) LLRs, positive = bit 1.
    """
    noise_var = np.asarray(noise_var, dtype=np.float64)
    if np.any(noise_var <= 0):
        raise ValueError(f"noise_var must be > 0, got min {noise_var.min()}")
    z = np.asarray(equalised, dtype=np.complex64).ravel()
    dist2 = np.abs(z[:, None] - POINTS[None, :]) ** 2  # (N, 8)
    llr = np.empty((z.size, 3), dtype=np.float64)
    for b in range(3):  # per bit position, vectorised over symbols
        ones = LABELS[:, b] == 1
        llr[:, b] = dist2[:, ~ones].min(axis=1) - dist2[:, ones].min(axis=1)
    llr /= np.reshape(noise_var, (-1, 1)) if noise_var.ndim else noise_var
    return guard_llr(llr.ravel())
