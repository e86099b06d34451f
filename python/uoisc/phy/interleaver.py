#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Bit interleaver of a frame's codewords over its whole burst.

Without it each LDPC codeword occupies ~n/3 consecutive symbols, so under
Doppler a fade of a few hundred symbols erases a long run of one codeword's
bits, which the stock gr-fec codes (no built-in interleaving) rarely survive,
while other codewords of the frame see a good channel. The interleaver gives
every codeword the time diversity of the whole burst:

1. each codeword's n bits are permuted by one fixed pseudo-random permutation
   (spreads a run of erased symbols over the whole codeword graph, also for
   one-codeword frames);
2. the frame is read column-wise: coded bit j of codeword i goes to position
   j * n_cw + i, so consecutive symbols carry bits of different codewords,
   and (since n_cw is then invertible mod 3) bit j lands on label position
   (j * n_cw + i) mod 3 of its 8-PSK symbol, which cycles through all three
   with j. When n_cw is a multiple of 3 (UO-ISC's 15-codeword frames) that
   read would put every bit of codeword i on label position i mod 3, and Gray
   8-PSK's label bits differ in reliability (every third codeword failed at
   5-6 dB AWGN while the others decoded), so row j is then read along a
   diagonal instead: position j * n_cw + (i + j) mod n_cw, label (i + j) mod 3.

It is a pure function of (n, number of codewords); TX applies
:func:`interleave` to the coded bits before mapping, RX :func:`deinterleave`
to the LLRs after demapping, so both ends share one definition.
"""

import functools

import numpy as np

from . import mapping

_PERMUTATION_SEED = 0x1EAF


@functools.lru_cache(maxsize=16)
def codeword_permutation(n):
    """The fixed permutation of the n bits of a codeword (read-only array)."""
    if n < 1:
        raise ValueError(f"codeword length n {n} must be >= 1")
    permutation = np.random.default_rng(_PERMUTATION_SEED).permutation(n)
    permutation.flags.writeable = False
    return permutation


def _frame_shape(values, n):
    """values as (codewords, n); ValueError unless it is a whole number of codewords."""
    values = np.asarray(values)
    if values.ndim != 1 or values.size % n:
        raise ValueError(f"{values.size} values are not a whole number of codewords of n={n}")
    return values.reshape(-1, n)


@functools.lru_cache(maxsize=16)
def _diagonal_columns(n, n_cw):
    """(n, n_cw) table: slot in burst row j of bit j of codeword i (see the module docstring)."""
    shift = np.arange(n)[:, None] if n_cw % mapping.BITS_PER_SYMBOL == 0 else 0
    columns = (np.arange(n_cw)[None, :] + shift) % n_cw
    columns.flags.writeable = False
    return columns


def interleave(coded_bits, n):
    """Transmission order of a frame's coded bits (codeword order in, burst order out).

    Raises:
        ValueError: not a whole number of codewords.
    """
    codewords = _frame_shape(coded_bits, n)
    rows = codewords[:, codeword_permutation(n)].T  # (n, n_cw): row j = bit j of every codeword
    burst = np.empty_like(rows)
    np.put_along_axis(burst, _diagonal_columns(n, rows.shape[1]), rows, axis=1)
    return burst.ravel()


def deinterleave(values, n):
    """Inverse of :func:`interleave` (e.g. for LLRs): burst order in, codeword order out.

    Raises:
        ValueError: not a whole number of codewords.
    """
    burst = _frame_shape(values, n).reshape(n, -1)  # (n, n_cw) in burst order
    rows = np.take_along_axis(burst, _diagonal_columns(n, burst.shape[1]), axis=1)
    codewords = np.empty_like(rows.T)
    codewords[:, codeword_permutation(n)] = rows.T
    return codewords.ravel()
