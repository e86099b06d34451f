#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Frame format of the PHY: physical-layer header and codeword segmentation.

Plain numpy/stdlib, no GNU Radio: the TX framer, the RX deframer and the tests
all use these functions, so the two ends cannot disagree on the format.

Physical-layer (PL) header, 10 bytes, big endian, sent robustly by the mapper::

    | payload_len u16 | seq u16 | payload_type u8 | code_id u8 | pilots u16 | CRC-16 u16 |

``pilots`` = pilot_len << 12 | pilot_interval (4 + 12 bits; both 0 = no pilots,
see ``pilots``), so every burst announces its own payload layout. CRC-16 is
CCITT (poly 0x1021, init 0xFFFF, ``binascii.crc_hqx``) over the first 8
bytes. ``payload_len`` is in bytes, so the largest payload is
:data:`MAX_PAYLOAD_BYTES` = 65535.

Each LDPC codeword carries k information bits::

    | data: D bytes of payload (last codeword zero-padded) | CRC-32 u32 | 0-pad to k bits |

with ``D = (k - 32) // 8`` (108 bytes for k = 902). The CRC-32 (zlib) covers
``seq`` (u16), the codeword index (u16) and the data, so a codeword delivered
in the wrong frame or position fails its check; it is never 0 for an all-zero
codeword (the decoder's failure output). Data and CRC bytes are XOR-scrambled
with a fixed pseudo-random sequence so long runs of equal payload bytes still
give a random-looking symbol stream.
"""

import binascii
import dataclasses
import struct
import zlib

import numpy as np

#: Payload types carried in the header; an int in 0..255 is also accepted.
PAYLOAD_TYPES = {"semantic": 0, "jpeg2000": 1, "vlf": 2}
HEADER_BYTES = 10
HEADER_BITS = 8 * HEADER_BYTES
#: Largest payload: what the u16 length field can hold.
MAX_PAYLOAD_BYTES = 0xFFFF
CW_CRC_BYTES = 4
_HEADER_FIELDS = struct.Struct(">HHBBH")
_PILOT_LEN_SHIFT = 12
_SCRAMBLER_SEED = 0x5EED


class HeaderError(ValueError):
    """A PL header that cannot be trusted (bad CRC or wrong size)."""


@dataclasses.dataclass(frozen=True)
class PhyHeader:
    """Fields of the physical-layer header (see the module docstring)."""

    payload_len: int
    seq: int
    payload_type: int
    code_id: int
    pilot_interval: int = 0
    pilot_len: int = 0


def payload_type_code(value):
    """Header byte of a payload type given as a name or an int.

    Raises:
        ValueError: unknown name or int outside 0..255.
    """
    if isinstance(value, str):
        if value not in PAYLOAD_TYPES:
            raise ValueError(f"unknown payload_type {value!r}; use one of {sorted(PAYLOAD_TYPES)} or 0..255")
        return PAYLOAD_TYPES[value]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value <= 255:
        return int(value)
    raise ValueError(f"payload_type {value!r} is neither a known name nor an int in 0..255")


def payload_type_name(code):
    """Name of a payload type byte, or the int itself if it has no name."""
    for name, value in PAYLOAD_TYPES.items():
        if value == code:
            return name
    return int(code)


def pack_header(header):
    """Serialise a :class:`PhyHeader` to HEADER_BYTES bytes (fields + CRC-16).

    Raises:
        ValueError: a field out of range.
    """
    if not 1 <= header.payload_len <= MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload_len {header.payload_len} outside 1..{MAX_PAYLOAD_BYTES}")
    if not 0 <= header.seq <= 0xFFFF:
        raise ValueError(f"seq {header.seq} outside 0..65535")
    for name in ("payload_type", "code_id"):
        value = getattr(header, name)
        if not 0 <= value <= 255:
            raise ValueError(f"{name} {value} outside 0..255")
    if not (0 <= header.pilot_interval < 1 << _PILOT_LEN_SHIFT and 0 <= header.pilot_len < 1 << 4):
        raise ValueError(f"pilot_interval {header.pilot_interval} / pilot_len {header.pilot_len} "
                         f"outside 0..4095 / 0..15")
    if (header.pilot_interval == 0) != (header.pilot_len == 0):
        raise ValueError(f"pilot_interval {header.pilot_interval} and pilot_len {header.pilot_len} "
                         f"must both be 0 or both > 0")
    pilot_field = header.pilot_len << _PILOT_LEN_SHIFT | header.pilot_interval
    fields = _HEADER_FIELDS.pack(header.payload_len, header.seq, header.payload_type, header.code_id, pilot_field)
    return fields + struct.pack(">H", binascii.crc_hqx(fields, 0xFFFF))


def parse_header(data):
    """Parse and check HEADER_BYTES header bytes.

    Raises:
        HeaderError: wrong size, CRC mismatch or a zero length.
    """
    data = bytes(data)
    if len(data) != HEADER_BYTES:
        raise HeaderError(f"header has {len(data)} bytes, expected {HEADER_BYTES}")
    fields, (crc,) = data[:-2], struct.unpack(">H", data[-2:])
    if binascii.crc_hqx(fields, 0xFFFF) != crc:
        raise HeaderError("header CRC-16 mismatch")
    payload_len, seq, payload_type, code_id, pilot_field = _HEADER_FIELDS.unpack(fields)
    if payload_len == 0:
        raise HeaderError("header announces an empty payload")
    pilot_len, pilot_interval = pilot_field >> _PILOT_LEN_SHIFT, pilot_field & ((1 << _PILOT_LEN_SHIFT) - 1)
    if (pilot_len == 0) != (pilot_interval == 0):
        raise HeaderError(f"header announces pilot_len {pilot_len} with pilot_interval {pilot_interval}")
    return PhyHeader(payload_len, seq, payload_type, code_id, pilot_interval, pilot_len)


def data_bytes_per_codeword(k):
    """Payload bytes one codeword of k information bits carries."""
    data_bytes = (k - 8 * CW_CRC_BYTES) // 8
    if data_bytes < 1:
        raise ValueError(f"k={k} too small for a {CW_CRC_BYTES}-byte CRC and data")
    return data_bytes


def n_codewords(payload_len, k):
    """Number of codewords a payload of ``payload_len`` bytes needs."""
    per_cw = data_bytes_per_codeword(k)
    return -(-payload_len // per_cw)


def _scrambler(n_bytes):
    return np.random.default_rng(_SCRAMBLER_SEED).integers(0, 256, n_bytes, dtype=np.uint8)


def _codeword_crc(seq, index, data):
    return zlib.crc32(struct.pack(">HH", seq, index & 0xFFFF) + data)


def segment(payload, seq, k):
    """Split a payload into the information bits of its codewords.

    Args:
        payload: bytes-like, 1..MAX_PAYLOAD_BYTES bytes.
        seq: frame sequence number (0..65535), bound into every CRC.
        k: information bits per codeword.

    Returns:
        uint8 array (n_codewords, k) of bits (0/1), MSB first within bytes.

    Raises:
        ValueError: empty or oversized payload, or bad seq.
    """
    payload = bytes(payload)
    if not 1 <= len(payload) <= MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes outside 1..{MAX_PAYLOAD_BYTES}")
    if not 0 <= seq <= 0xFFFF:
        raise ValueError(f"seq {seq} outside 0..65535")
    per_cw = data_bytes_per_codeword(k)
    n_cw = n_codewords(len(payload), k)
    padded = payload.ljust(n_cw * per_cw, b"\0")
    rows = np.zeros((n_cw, per_cw + CW_CRC_BYTES), dtype=np.uint8)
    for i in range(n_cw):  # per codeword, not per sample: a few hundred at most
        data = padded[i * per_cw:(i + 1) * per_cw]
        rows[i] = np.frombuffer(data + struct.pack(">I", _codeword_crc(seq, i, data)), dtype=np.uint8)
    rows ^= _scrambler(rows.shape[1])
    bits = np.zeros((n_cw, k), dtype=np.uint8)
    bits[:, :8 * rows.shape[1]] = np.unpackbits(rows, axis=1)
    return bits


def reassemble(info_bits, payload_len, seq):
    """Inverse of :func:`segment`: payload bytes and the CRC verdict per codeword.

    Args:
        info_bits: array (n_codewords, k) of decoded bits (0/1).
        payload_len: payload bytes announced by the header.
        seq: frame sequence number from the header.

    Returns:
        (payload bytes, bool array of CRC passes, one per codeword)

    Raises:
        ValueError: the number of codewords does not fit ``payload_len``.
    """
    info_bits = np.asarray(info_bits, dtype=np.uint8)
    n_cw, k = info_bits.shape
    if n_cw != n_codewords(payload_len, k):
        raise ValueError(f"{n_cw} codewords cannot carry a payload of {payload_len} bytes with k={k}")
    per_cw = data_bytes_per_codeword(k)
    rows = np.packbits(info_bits[:, :8 * (per_cw + CW_CRC_BYTES)], axis=1)
    rows ^= _scrambler(rows.shape[1])
    crc_ok = np.zeros(n_cw, dtype=bool)
    for i in range(n_cw):
        data = rows[i, :per_cw].tobytes()
        (crc,) = struct.unpack(">I", rows[i, per_cw:].tobytes())
        crc_ok[i] = crc == _codeword_crc(seq, i, data)
    return rows[:, :per_cw].tobytes()[:payload_len], crc_ok
