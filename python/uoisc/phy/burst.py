#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Assembly of a whole burst: preamble, header section, payload section with pilots, guard.

::

    | preamble 64 | header section: 80 bits x 8, BPSK + pilot blocks | payload section: 8-PSK data + pilot blocks | guard: zeros |

(with a repeated code, ``repetition``, the payload section's data is the data block r times).

The header section carries its own fixed pilot layout (:data:`HEADER_PILOTS`,
independent of the payload's, which the header announces): the 8 header copies
span 680 symbols, through which a fast channel (fD*Ts = 1e-2) turns several
times, so the receiver needs gain anchors inside the header. The coded bits are
interleaved over the burst (``interleaver``) before the Gray mapping; the
payload section's layout is ``pilots``'s, from the pilot parameters that the
header itself announces.
"""

import numpy as np

from . import interleaver, mapping, pilots, repetition

#: Pilot layout of the header section, the same in every burst (2 known symbols after every
#: 32 header symbols: +6 % header symbols, anchors 34 symbols apart like the payload's default).
HEADER_PILOTS = pilots.PilotParams(32, 2)
#: Symbols of the header section (header symbols and their pilots).
HEADER_SECTION_LEN = pilots.section_len(mapping.HEADER_SYMBOLS, HEADER_PILOTS)
#: Known symbols before the payload section.
KNOWN_LEN = mapping.PREAMBLE_LEN + HEADER_SECTION_LEN


def known_prefix(header_bytes):
    """The known symbols before the payload section: preamble and header section."""
    return np.concatenate([mapping.PREAMBLE, pilots.insert_pilots(mapping.header_symbols(header_bytes),
                                                                  HEADER_PILOTS)])


def build_burst(header_bytes, coded_bits, n, guard_len=mapping.DEFAULT_GUARD, pilot_params=pilots.PilotParams(),
                repeat=1):
    """Complete burst of one frame.

    Args:
        header_bytes: the packed PL header (``framing.pack_header``).
        coded_bits: the frame's coded bits, codeword after codeword.
        n: bits per codeword (the interleaver's row length).
        guard_len: zero symbols after the burst (>= 0).
        pilot_params: the pilot layout; must be the one the header announces.
        repeat: times the data block is sent (the code's ``repeat``, see ``repetition``).

    Raises:
        ValueError: negative guard, repeat < 1, or not a whole number of codewords.
    """
    if guard_len < 0:
        raise ValueError(f"guard_len {guard_len} must be >= 0")
    data = repetition.repeat_symbols(mapping.map_8psk(interleaver.interleave(coded_bits, n)), repeat)
    section = pilots.insert_pilots(data, pilot_params)
    return np.concatenate([known_prefix(header_bytes), section, np.zeros(guard_len, dtype=np.complex64)])


def burst_len(payload_len, n, k, guard_len, pilot_params, repeat=1):
    """Symbols of the burst of a ``payload_len``-byte frame with an (n, k) code repeated ``repeat`` times."""
    return KNOWN_LEN + pilots.frame_section_len(payload_len, n, k, pilot_params, repeat) + int(guard_len)
