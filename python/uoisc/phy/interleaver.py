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
   j * n_cw + i, so consecutive symbols carry bits of different codewords.

It is a pure function of (n, number of codewords); TX applies
:func:`interleave` to the coded bits before mapping, RX :func:`deinterleave`
to the LLRs after demapping, so both ends share one definition.
"""

import functools

import numpy as np

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


def interleave(coded_bits, n):
    """Transmission order of a frame's coded bits (codeword order in, burst order out).

    Raises:
        ValueError: not a whole number of codewords.
    """
    codewords = _frame_shape(coded_bits, n)
    return codewords[:, codeword_permutation(n)].T.ravel()


def deinterleave(values, n):
    """Inverse of :func:`interleave` (e.g. for LLRs): burst order in, codeword order out.

    Raises:
        ValueError: not a whole number of codewords.
    """
    columns = _frame_shape(values, n).reshape(n, -1).T  # (n_cw, n) in permuted order
    codewords = np.empty_like(columns)
    codewords[:, codeword_permutation(n)] = columns
    return codewords.ravel()
