"""Erasure masks shaped like the PHY's: whole LDPC codewords lost, in the packed index order.

The receiver knows which indices are erased: the PHY checks one CRC per LDPC
codeword, and a codeword carries ``cw_data_bytes`` consecutive bytes of the
codec frame (the 8-byte codec header, then the indices packed in C order of
``L x T x G``; ``docs/runtime.md``). A failed codeword therefore erases a *run*
of consecutive indices. Training the decoder's erasure token on such runs,
rather than on independent index drops, shows it the losses it will meet.

The index sets per codeword come from ``uoisc_runtime.packing.erased_indices``,
the function the receiver uses, so training and run time cannot disagree on
the bit layout.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from uoisc_runtime.frame import HEADER_BYTES
from uoisc_runtime.packing import erased_indices, packed_bytes

__all__ = ["DEFAULT_CW_DATA_BYTES", "codeword_index_table", "sample_codeword_erasures",
           "erase_codewords"]

#: Payload bytes per codeword of the project's default LDPC code ``n1800_k902``:
#: ``(k - 32) // 8`` (``gnuradio.uoisc.phy.framing.data_bytes_per_codeword``,
#: which the training side must not import).
DEFAULT_CW_DATA_BYTES = 108


def codeword_index_table(n_indices: int, bits_per_index: int,
                         cw_data_bytes: int = DEFAULT_CW_DATA_BYTES,
                         header_bytes: int = HEADER_BYTES) -> Tensor:
    """Which indices each codeword of a codec frame erases when its CRC fails.

    Args:
        n_indices: indices per image (``L * T * G``).
        bits_per_index: bits of one packed index.
        cw_data_bytes: frame bytes carried by one codeword.
        header_bytes: codec header bytes before the packed indices.

    Returns:
        bool ``n_codewords x n_indices``; row ``c`` is True for every index
        with a bit in codeword ``c``.
    """
    if isinstance(cw_data_bytes, bool) or not isinstance(cw_data_bytes, int) or cw_data_bytes < 1:
        raise ValueError(f"cw_data_bytes={cw_data_bytes!r} must be a positive integer")
    frame_bytes = header_bytes + packed_bytes(n_indices, bits_per_index)
    n_codewords = -(-frame_bytes // cw_data_bytes)
    rows = []
    for codeword in range(n_codewords):
        byte_ok = np.ones(frame_bytes, bool)
        byte_ok[codeword * cw_data_bytes:(codeword + 1) * cw_data_bytes] = False
        rows.append(erased_indices(byte_ok, header_bytes, n_indices, bits_per_index))
    return torch.from_numpy(np.stack(rows))


def sample_codeword_erasures(table: Tensor, batch_size: int, max_fraction: float,
                             clean_probability: float,
                             generator: torch.Generator | None = None) -> Tensor:
    """Random erasure masks: per image, a random set of whole codewords fails.

    Each image is clean with probability ``clean_probability``; otherwise its
    share of failed codewords is uniform in ``[0, max_fraction]`` and that many
    codewords (rounded) are picked at random without replacement.

    Args:
        table: :func:`codeword_index_table`.
        batch_size: images.
        max_fraction: largest share of failed codewords, in ``[0, 1]``.
        clean_probability: probability of an image without erasures, in ``[0, 1]``.
        generator: torch generator for reproducible masks.

    Returns:
        bool ``batch_size x n_indices``, True = erased.
    """
    if not 0.0 <= max_fraction <= 1.0:
        raise ValueError(f"max_fraction={max_fraction!r} must be in [0, 1]")
    if not 0.0 <= clean_probability <= 1.0:
        raise ValueError(f"clean_probability={clean_probability!r} must be in [0, 1]")
    fraction = torch.rand(batch_size, generator=generator) * max_fraction
    fraction[torch.rand(batch_size, generator=generator) < clean_probability] = 0.0
    return erase_codewords(table, torch.round(fraction * table.shape[0]).long(), generator)


def erase_codewords(table: Tensor, n_failed: Tensor,
                    generator: torch.Generator | None = None) -> Tensor:
    """Erasure masks with exactly ``n_failed[i]`` codewords of image ``i`` failed, picked at random.

    Args:
        table: :func:`codeword_index_table`.
        n_failed: int ``N``, each in ``[0, n_codewords]``.
        generator: torch generator for reproducible masks.

    Returns:
        bool ``N x n_indices``, True = erased.
    """
    n_codewords = table.shape[0]
    if n_failed.numel() and (int(n_failed.min()) < 0 or int(n_failed.max()) > n_codewords):
        raise ValueError(f"n_failed spans [{int(n_failed.min())}, {int(n_failed.max())}]; "
                         f"a frame has {n_codewords} codewords")
    # The n_failed smallest of n_codewords random keys = a uniform subset of that size.
    keys = torch.rand(len(n_failed), n_codewords, generator=generator)
    failed = keys.argsort(dim=1).argsort(dim=1) < n_failed.unsqueeze(1)
    return (failed.float() @ table.float()) > 0
