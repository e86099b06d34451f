"""Codeword-shaped erasure masks for erasure-aware training (``uoisc_train.codec.erasures``)."""

import importlib.util
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings, strategies as st

from uoisc_runtime.frame import HEADER_BYTES as HEADER
from uoisc_train.codec.erasures import (DEFAULT_CW_DATA_BYTES, codeword_index_table,
                                        sample_codeword_erasures)


def _codewords_of_index(i, bits, cw_bytes):
    """Independent model: the codewords holding the first and the last bit of index i."""
    first_bit = 8 * HEADER + i * bits
    last_bit = first_bit + bits - 1
    return set(range(first_bit // 8 // cw_bytes, last_bit // 8 // cw_bytes + 1))


@given(n_indices=st.integers(1, 300), bits=st.integers(1, 12), cw_bytes=st.integers(1, 40))
@settings(max_examples=60, deadline=None)
def test_table_rows_are_the_indices_with_a_bit_in_that_codeword(n_indices, bits, cw_bytes):
    """Row c of the table is True exactly for the indices that have a bit in frame bytes
    [c * cw_bytes, (c + 1) * cw_bytes); every index is in at least one codeword, and the
    table has ceil(frame bytes / cw_bytes) rows."""
    table = codeword_index_table(n_indices, bits, cw_bytes)
    frame_bytes = HEADER + -(-n_indices * bits // 8)
    assert table.shape == (-(-frame_bytes // cw_bytes), n_indices) and table.dtype == torch.bool
    for i in range(n_indices):
        assert set(torch.nonzero(table[:, i]).flatten().tolist()) == \
            _codewords_of_index(i, bits, cw_bytes)


def test_default_codeword_size_is_the_phy_framing_one_for_the_default_code():
    """DEFAULT_CW_DATA_BYTES equals the PHY framing's data bytes per codeword for k = 902 (the
    n1800_k902 code); framing.py is loaded from its source file, it needs only numpy."""
    path = Path(__file__).resolve().parent.parent / "python" / "uoisc" / "phy" / "framing.py"
    spec = importlib.util.spec_from_file_location("uoisc_phy_framing", path)
    framing = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(framing)
    assert framing.data_bytes_per_codeword(902) == DEFAULT_CW_DATA_BYTES


def test_shipped_geometry_erases_runs_of_consecutive_indices():
    """For the tiny codec (1536 8-bit indices, 108-byte codewords) codeword 0 holds the header
    and the first 100 indices, every later one the next 108 indices: runs, in packed order."""
    table = codeword_index_table(1536, 8, DEFAULT_CW_DATA_BYTES)
    assert table.shape == (15, 1536)
    assert torch.nonzero(table[0]).flatten().tolist() == list(range(100))
    assert torch.nonzero(table[1]).flatten().tolist() == list(range(100, 208))
    assert int(table.sum()) == 1536


def test_sampled_masks_are_unions_of_whole_codewords_in_the_fraction_range():
    """Every sampled mask is a union of table rows; the share of failed codewords is at most
    max_fraction (rounded to whole codewords), clean images appear at about clean_probability
    (binomial, 5 sigma) and the same generator seed gives the same masks."""
    table = codeword_index_table(1536, 8)
    n = 2000
    masks = sample_codeword_erasures(table, n, 0.5, 0.3, torch.Generator().manual_seed(1))
    # A codeword failed when all of its indices are erased.
    failed = torch.stack([~(table & ~m).any(dim=1) for m in masks])         # n x 15
    assert torch.equal((failed.float() @ table.float()) > 0, masks)
    assert int(failed.sum(dim=1).max()) <= round(0.5 * 15)
    clean = float((~masks.any(dim=1)).float().mean())
    # Clean also happens when the uniform fraction rounds to zero codewords (< 1/30 of 0.5).
    expected = 0.3 + 0.7 * (0.5 / 15) / 0.5
    assert abs(clean - expected) < 5 * (expected * (1 - expected) / n) ** 0.5
    again = sample_codeword_erasures(table, n, 0.5, 0.3, torch.Generator().manual_seed(1))
    assert torch.equal(masks, again)


def test_full_fraction_can_erase_everything_and_zero_erases_nothing():
    """max_fraction=1 without clean images erases every index of some images; max_fraction=0
    never erases."""
    table = codeword_index_table(1536, 8)
    generator = torch.Generator().manual_seed(0)
    assert sample_codeword_erasures(table, 400, 1.0, 0.0, generator).all(dim=1).any()
    assert not sample_codeword_erasures(table, 50, 0.0, 0.0, generator).any()


@pytest.mark.parametrize("kwargs, name", [({"max_fraction": 1.5}, "max_fraction"),
                                          ({"clean_probability": -0.1}, "clean_probability")])
def test_bad_sampling_arguments_raise(kwargs, name):
    """Out-of-range probabilities raise ValueError naming the argument."""
    arguments = {"max_fraction": 0.5, "clean_probability": 0.1, **kwargs}
    with pytest.raises(ValueError, match=name):
        sample_codeword_erasures(codeword_index_table(10, 8), 2, **arguments)
    with pytest.raises(ValueError, match="cw_data_bytes"):
        codeword_index_table(10, 8, cw_data_bytes=0)


def test_erase_codewords_fails_exactly_the_requested_number():
    """erase_codewords fails exactly n_failed[i] whole codewords of image i; a count above the
    frame's codewords raises ValueError."""
    from uoisc_train.codec.erasures import erase_codewords
    table = codeword_index_table(1536, 8)
    n_failed = torch.tensor([0, 1, 7, 15])
    masks = erase_codewords(table, n_failed, torch.Generator().manual_seed(0))
    failed = torch.stack([~(table & ~m).any(dim=1) for m in masks])
    assert failed.sum(dim=1).tolist() == [0, 1, 7, 15]
    with pytest.raises(ValueError, match="16"):
        erase_codewords(table, torch.tensor([16]))
