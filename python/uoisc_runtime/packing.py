"""Codebook indices <-> bytes, and which indices a damaged byte erases.

Bit order (the over-the-air contract, worked through in ``docs/runtime.md``):
the indices are taken in C order of the ``L x T x G`` array, each written as
``bits_per_index`` bits, most significant bit first; the resulting bit string is
packed into bytes most significant bit first (``np.packbits``, big bit order)
and zero bits pad the last byte.

A received word can exceed the codebook (``K`` not a power of two, or bit
errors in the channel): it is folded into range as ``word % K`` and flagged,
so the decoder always gets a valid, non-negative index and the receiver still
knows which ones are guesses.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MAX_BITS_PER_INDEX", "PackingError", "packed_bytes", "pack_indices", "unpack_indices",
           "erased_indices"]

#: Words are assembled in uint64; 32 bits covers any codebook a model would use.
MAX_BITS_PER_INDEX = 32


class PackingError(ValueError):
    """Bad packing arguments, or too few bytes for the requested indices."""


def _check_bits(bits_per_index: int) -> None:
    if isinstance(bits_per_index, bool) or not isinstance(bits_per_index, (int, np.integer)) \
            or not 1 <= bits_per_index <= MAX_BITS_PER_INDEX:
        raise PackingError(f"bits_per_index={bits_per_index!r} must be an integer in "
                           f"1..{MAX_BITS_PER_INDEX}")


def _check_count(n_indices: int) -> None:
    if isinstance(n_indices, bool) or not isinstance(n_indices, (int, np.integer)) or n_indices < 0:
        raise PackingError(f"n_indices={n_indices!r} must be a non-negative integer")


def packed_bytes(n_indices: int, bits_per_index: int) -> int:
    """Bytes taken by ``n_indices`` packed indices: ``ceil(n_indices * bits_per_index / 8)``."""
    _check_count(n_indices)
    _check_bits(bits_per_index)
    return math.ceil(n_indices * bits_per_index / 8)


def _bit_weights(bits_per_index: int) -> np.ndarray:
    """Place values of one word's bits, most significant first."""
    return np.left_shift(np.uint64(1), np.arange(bits_per_index - 1, -1, -1, dtype=np.uint64))


def pack_indices(indices: np.ndarray, bits_per_index: int) -> bytes:
    """Pack indices (any shape, read in C order) into bytes, MSB first.

    Args:
        indices: non-negative integers, each below ``2 ** bits_per_index``.
        bits_per_index: bits written per index, 1..32.

    Raises:
        PackingError: bad ``bits_per_index``, a non-integer array, or an index that is
            negative or does not fit in ``bits_per_index`` bits (naming it).
    """
    _check_bits(bits_per_index)
    flat = np.asarray(indices).reshape(-1)
    if flat.size and not np.issubdtype(flat.dtype, np.integer):
        raise PackingError(f"indices of dtype {flat.dtype}; expected integers")
    if flat.size:
        low, high = int(flat.min()), int(flat.max())
        if low < 0 or high >= 1 << bits_per_index:
            bad = low if low < 0 else high
            raise PackingError(f"index {bad} does not fit in {bits_per_index} unsigned bits")
    words = flat.astype(np.uint64)
    shifts = np.arange(bits_per_index - 1, -1, -1, dtype=np.uint64)
    bits = ((words[:, None] >> shifts[None, :]) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bits.reshape(-1), bitorder="big").tobytes()


def unpack_indices(data: bytes, n_indices: int, bits_per_index: int,
                   codebook_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Read ``n_indices`` words from the front of ``data`` and fold them into ``[0, K)``.

    Bytes after the last needed one are ignored (the caller checks exact lengths).

    Args:
        data: packed bytes, as written by :func:`pack_indices`.
        n_indices: how many indices to read.
        bits_per_index: bits per index, 1..32.
        codebook_size: ``K``; words ``>= K`` become ``word % K``.

    Returns:
        ``(indices, folded)``: int64 indices in ``[0, K)`` and a bool mask of the
        words that were folded, both 1-D of length ``n_indices``.

    Raises:
        PackingError: bad arguments, or fewer bytes than ``n_indices`` need.
    """
    need = packed_bytes(n_indices, bits_per_index)
    if isinstance(codebook_size, bool) or not isinstance(codebook_size, (int, np.integer)) \
            or codebook_size < 1:
        raise PackingError(f"codebook_size={codebook_size!r} must be a positive integer")
    if len(data) < need:
        raise PackingError(f"{len(data)} bytes hold fewer than {n_indices} indices of "
                           f"{bits_per_index} bits ({need} bytes needed)")
    raw = np.frombuffer(bytes(data[:need]), dtype=np.uint8)
    bits = np.unpackbits(raw, bitorder="big")[:n_indices * bits_per_index]
    words = bits.reshape(n_indices, bits_per_index).astype(np.uint64) @ _bit_weights(bits_per_index)
    folded = words >= np.uint64(codebook_size)
    indices = (words % np.uint64(codebook_size)).astype(np.int64)
    return indices, folded


def erased_indices(byte_ok: np.ndarray, offset_bytes: int, n_indices: int,
                   bits_per_index: int) -> np.ndarray:
    """Which indices have at least one bit in an unreliable payload byte.

    Args:
        byte_ok: one bool per payload byte (False = that byte failed its CRC).
        offset_bytes: bytes before the packed indices (the codec frame header).
        n_indices: indices packed after the offset.
        bits_per_index: bits per index, 1..32.

    Returns:
        bool array of length ``n_indices``, True where the index is erased.

    Raises:
        PackingError: bad arguments, or ``byte_ok`` shorter than the packed indices need.
    """
    need = packed_bytes(n_indices, bits_per_index)
    if isinstance(offset_bytes, bool) or not isinstance(offset_bytes, (int, np.integer)) \
            or offset_bytes < 0:
        raise PackingError(f"offset_bytes={offset_bytes!r} must be a non-negative integer")
    ok = np.asarray(byte_ok, dtype=bool).reshape(-1)
    if ok.size < offset_bytes + need:
        raise PackingError(f"byte_ok has {ok.size} entries; offset {offset_bytes} + {need} "
                           "packed bytes needed")
    bad = ~ok[offset_bytes:offset_bytes + need]
    # A byte-level prefix sum tells whether any bad byte lies in [first, last] of each index.
    bad_before = np.concatenate(([0], np.cumsum(bad, dtype=np.int64)))
    starts = np.arange(n_indices, dtype=np.int64) * bits_per_index
    first_byte = starts // 8
    last_byte = (starts + bits_per_index - 1) // 8
    return bad_before[last_byte + 1] - bad_before[first_byte] > 0
