#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Symbol-level layout of a burst: preamble, robust header, Gray 8-PSK payload.

A burst, at 1 sample per symbol, unit average symbol energy (Es = 1)::

    | preamble: 64 | header: 80 bits x 8 repetitions, BPSK | payload section: 8-PSK + pilots | guard |

- Constellation: the points of ``digital.constellation_8psk()`` indexed by the
  3-bit value (MSB first), which GNU Radio orders as a Gray code around the
  circle (no pre-differential coding is applied).
- Preamble: the Frank sequence of length 64 (8 x 8, phases 2*pi*a*b/8) rotated
  by pi/8, so every preamble symbol is a point of the same 8-PSK alphabet (an
  air modem's 8th-order Costas loop sees nothing unusual) and its periodic
  autocorrelation is perfect.
- Header: its 80 bits on the antipodal pair ``points[0]`` (bit 0) /
  ``points[3]`` (bit 1); the whole 80-bit block is repeated 8 times (spread in
  time, so slow fading still gives some diversity). Combined coherently that is
  a 9 dB gain over one BPSK symbol, so the header survives where the LDPC code
  has long failed.
- Payload: coded bits, zero-padded to a multiple of 3, Gray mapped, with known
  pilot blocks interleaved (``pilots``); ``burst.build_burst`` assembles it all.
"""

import numpy as np
from gnuradio import digital

from . import framing

BITS_PER_SYMBOL = 3
#: The 8 constellation points; the index is the bit label (MSB first).
POINTS = np.asarray(digital.constellation_8psk().points(), dtype=np.complex64)
#: Bit labels of POINTS, shape (8, 3), MSB first.
LABELS = ((np.arange(8)[:, None] >> np.arange(2, -1, -1)) & 1).astype(np.uint8)
PREAMBLE_LEN = 64
_FRANK_Q = 8
PREAMBLE = (np.exp(2j * np.pi * np.outer(np.arange(_FRANK_Q), np.arange(_FRANK_Q)).ravel() / _FRANK_Q)
            * np.exp(1j * np.pi / 8)).astype(np.complex64)
HEADER_REPEAT = 8
HEADER_SYMBOLS = framing.HEADER_BITS * HEADER_REPEAT
#: Symbol carrying a header bit 0; bit 1 is its negative (points[3]).
HEADER_POINT = POINTS[0]
DEFAULT_GUARD = 64


def padded_bit_count(n_bits):
    """Bits after zero-padding ``n_bits`` to a whole number of 8-PSK symbols."""
    return -(-n_bits // BITS_PER_SYMBOL) * BITS_PER_SYMBOL


def payload_symbol_count(n_coded_bits):
    """8-PSK symbols that carry ``n_coded_bits`` coded bits."""
    return padded_bit_count(n_coded_bits) // BITS_PER_SYMBOL


def map_8psk(bits):
    """Gray 8-PSK symbols of a bit array (zero-padded to a multiple of 3)."""
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    padded = np.zeros(padded_bit_count(bits.size), dtype=np.uint8)
    padded[:bits.size] = bits
    values = padded.reshape(-1, 3) @ np.array([4, 2, 1], dtype=np.uint8)
    return POINTS[values]


def header_symbols(header_bytes):
    """BPSK symbols of the 8 header bytes, repeated :data:`HEADER_REPEAT` times."""
    bits = np.unpackbits(np.frombuffer(bytes(header_bytes), dtype=np.uint8))
    if bits.size != framing.HEADER_BITS:
        raise ValueError(f"header has {bits.size} bits, expected {framing.HEADER_BITS}")
    one_copy = HEADER_POINT * (1 - 2 * bits.astype(np.float32))
    return np.tile(one_copy, HEADER_REPEAT).astype(np.complex64)


def header_soft_bits(equalised):
    """Coherently combined soft header bits (positive means bit 0).

    Args:
        equalised: the :data:`HEADER_SYMBOLS` header symbols divided by h.
    """
    projected = np.real(np.asarray(equalised) * np.conj(HEADER_POINT))
    return projected.reshape(HEADER_REPEAT, framing.HEADER_BITS).sum(axis=0)
