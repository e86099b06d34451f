#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Pilot layout of the payload section of a burst, shared by TX and RX.

The payload section (after the header) interleaves the 8-PSK data symbols with
blocks of ``length`` known pilot symbols, one block after every ``interval``
data symbols and one after the last (possibly shorter) data block, so the
receiver always has a channel estimate on both sides of every data symbol (the
header before the first data block is known too)::

    header | D x interval | P x length | D x interval | P x length | ... | D (rest) | P x length |

Everything here is a pure function of (number of data symbols, interval,
length); the number of data symbols is itself a function of the code and the
payload length (:func:`frame_data_symbols`). ``interval == length == 0`` is the
pilot-free format. The PL header carries both numbers, so a receiver reads the
layout of every burst from the burst itself (see ``framing``).

Pilot symbols are points of the payload's 8-PSK alphabet drawn from a fixed
pseudo-random sequence (no spectral line, nothing unusual for an air modem's
8th-order Costas loop); block j uses symbols ``j * length .. (j + 1) * length - 1``
of that sequence.
"""

import dataclasses

import numpy as np

from . import framing, mapping

#: Largest values the PL header's pilot field can carry (12 + 4 bits).
MAX_INTERVAL = 0xFFF
MAX_LENGTH = 0xF
#: Default layout: 2 pilots after every 32 data symbols (rate cost 2/34 = 5.9%, that of the
#: former 4 every 64, with the anchors twice as dense: Nyquist limit fD*Ts = 1/(2*34) = 1.47e-2,
#: so the pilot filter follows fading up to 1e-2), chosen from the measurements in docs/phy.md.
DEFAULT_INTERVAL = 32
DEFAULT_LENGTH = 2
_PILOT_SEED = 0x9117


@dataclasses.dataclass(frozen=True)
class PilotParams:
    """A pilot configuration: ``length`` known symbols after every ``interval`` data symbols.

    ``PilotParams(0, 0)`` means no pilots.

    Raises:
        ValueError: only one of the two is 0, or a value outside the header field.
    """

    interval: int = 0
    length: int = 0

    def __post_init__(self):
        check_pilot_params(self.interval, self.length)

    @property
    def enabled(self):
        return self.length > 0


def check_pilot_params(interval, length):
    """Raise ValueError unless (interval, length) is (0, 0) or within the header field."""
    for name, value, top in (("pilot_interval", interval, MAX_INTERVAL), ("pilot_len", length, MAX_LENGTH)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value <= top:
            raise ValueError(f"{name} {value!r} is not an int in 0..{top}")
    if (interval == 0) != (length == 0):
        raise ValueError(f"pilot_interval {interval} and pilot_len {length} must both be 0 (no pilots) or both > 0")


def n_pilot_blocks(n_data, params):
    """Pilot blocks in a payload section of ``n_data`` data symbols."""
    return -(-int(n_data) // params.interval) if params.enabled else 0


def section_len(n_data, params):
    """Symbols of the payload section: data plus pilots."""
    return int(n_data) + n_pilot_blocks(n_data, params) * params.length


def data_positions(n_data, params):
    """Index in the payload section of each data symbol, in transmission order."""
    i = np.arange(int(n_data))
    return i + (i // params.interval) * params.length if params.enabled else i


def pilot_positions(n_data, params):
    """(blocks, length) array: index in the payload section of each pilot symbol."""
    blocks = np.arange(n_pilot_blocks(n_data, params))
    data_before = np.minimum((blocks + 1) * params.interval, int(n_data))  # data up to the end of block j
    starts = data_before + blocks * params.length
    return starts[:, None] + np.arange(params.length)[None, :]


def pilot_symbols(n_blocks, params):
    """(n_blocks, length) known pilot symbols."""
    rng = np.random.default_rng(_PILOT_SEED)
    values = rng.integers(0, len(mapping.POINTS), n_blocks * params.length)
    return mapping.POINTS[values].reshape(n_blocks, params.length)


def insert_pilots(data_symbols, params):
    """Payload section of a burst: ``data_symbols`` with the pilot blocks inserted."""
    data_symbols = np.asarray(data_symbols, dtype=np.complex64)
    section = np.empty(section_len(data_symbols.size, params), dtype=np.complex64)
    section[data_positions(data_symbols.size, params)] = data_symbols
    positions = pilot_positions(data_symbols.size, params)
    section[positions] = pilot_symbols(positions.shape[0], params)
    return section


def frame_data_symbols(payload_len, n, k, repeat=1):
    """8-PSK data symbols of a frame of ``payload_len`` bytes with an (n, k) code whose
    data block is sent ``repeat`` times (``repetition``)."""
    return mapping.payload_symbol_count(framing.n_codewords(payload_len, k) * n) * int(repeat)


def frame_section_len(payload_len, n, k, params, repeat=1):
    """Payload-section symbols of a frame: the layout as a function of code, length and pilots."""
    return section_len(frame_data_symbols(payload_len, n, k, repeat), params)
