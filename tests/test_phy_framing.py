#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Property tests of the PHY frame format (gnuradio.uoisc.phy.framing, codes)."""

import binascii
import dataclasses
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio import fec
from gnuradio.uoisc.phy import codes, framing

CODES = [codes.get_code(name) for name in codes.list_codes()]
headers = st.builds(framing.PhyHeader, payload_len=st.integers(1, framing.MAX_PAYLOAD_BYTES),
                    seq=st.integers(0, 0xFFFF), payload_type=st.integers(0, 255),
                    code_id=st.integers(0, 255)).flatmap(
    lambda h: st.one_of(st.just(h), st.builds(
        lambda interval, length: dataclasses.replace(h, pilot_interval=interval, pilot_len=length),
        st.integers(1, 0xFFF), st.integers(1, 0xF))))


@pytest.mark.parametrize("code", CODES, ids=lambda c: c.name)
def test_registry_dimensions_match_stock_encoder(code):
    """(n, k) read from each alist equal what gr-fec's LDPC encoder reports."""
    encoder = fec.ldpc_encoder_make(code.alist)
    assert (encoder.get_output_size(), encoder.get_input_size()) == (code.n, code.k)


def test_unknown_code_name_is_rejected():
    """An unknown code name raises ValueError naming it."""
    with pytest.raises(ValueError, match="n42_k21"):
        codes.get_code("n42_k21")


def test_code_ids_are_unique():
    """Every registered code has its own header id, found back by code_name_for_id."""
    ids = [code.code_id for code in CODES]
    assert len(set(ids)) == len(ids)
    assert all(codes.code_name_for_id(code.code_id) == code.name for code in CODES)


@given(headers)
def test_header_round_trip(header):
    """pack_header -> parse_header gives the same fields back, in HEADER_BYTES (10) bytes."""
    data = framing.pack_header(header)
    assert len(data) == framing.HEADER_BYTES
    assert framing.parse_header(data) == header


@given(headers)
def test_header_matches_independent_layout(header):
    """The header bytes equal a layout built from the docs: >HHBB, pilot_len in the top 4 bits and
    pilot_interval in the low 12 bits of a u16, then CRC-16/CCITT (init 0xFFFF)."""
    fields = struct.pack(">HHBBH", header.payload_len, header.seq, header.payload_type, header.code_id,
                         header.pilot_len * 4096 + header.pilot_interval)
    assert framing.pack_header(header) == fields + struct.pack(">H", binascii.crc_hqx(fields, 0xFFFF))


@given(headers, st.integers(0, framing.HEADER_BITS - 1))
def test_header_single_bit_error_is_detected(header, bit):
    """Any single flipped bit makes parse_header raise HeaderError (CRC-16 detects all of them)."""
    data = bytearray(framing.pack_header(header))
    data[bit // 8] ^= 0x80 >> (bit % 8)
    with pytest.raises(framing.HeaderError):
        framing.parse_header(bytes(data))


@pytest.mark.parametrize("bad", [
    framing.PhyHeader(0, 0, 0, 1), framing.PhyHeader(framing.MAX_PAYLOAD_BYTES + 1, 0, 0, 1),
    framing.PhyHeader(1, 0x10000, 0, 1), framing.PhyHeader(1, 0, 256, 1), framing.PhyHeader(1, 0, 0, -1),
    framing.PhyHeader(1, 0, 0, 1, 4096, 4), framing.PhyHeader(1, 0, 0, 1, 64, 16),
    framing.PhyHeader(1, 0, 0, 1, 64, 0), framing.PhyHeader(1, 0, 0, 1, 0, 4)])
def test_header_fields_out_of_range_are_rejected(bad):
    """Fields that do not fit the header raise ValueError."""
    with pytest.raises(ValueError):
        framing.pack_header(bad)


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=1200), st.integers(0, 0xFFFF), st.sampled_from(CODES))
def test_segment_reassemble_round_trip(payload, seq, code):
    """segment -> reassemble returns the payload with every codeword CRC passing."""
    bits = framing.segment(payload, seq, code.k)
    assert bits.shape == (framing.n_codewords(len(payload), code.k), code.k)
    assert set(np.unique(bits)) <= {0, 1}
    out, crc_ok = framing.reassemble(bits, len(payload), seq)
    assert out == payload
    assert crc_ok.all()


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=300, max_size=1000), st.integers(0, 0xFFFF), st.data())
def test_corrupted_codeword_is_flagged_alone(payload, seq, data):
    """A bit flipped in the data/CRC part of one codeword fails only that codeword's CRC."""
    code = CODES[0]
    bits = framing.segment(payload, seq, code.k)
    victim = data.draw(st.integers(0, bits.shape[0] - 1))
    covered = 8 * (framing.data_bytes_per_codeword(code.k) + framing.CW_CRC_BYTES)
    bits[victim, data.draw(st.integers(0, covered - 1))] ^= 1
    _, crc_ok = framing.reassemble(bits, len(payload), seq)
    assert not crc_ok[victim]
    assert crc_ok.sum() == crc_ok.size - 1


def test_codeword_crc_binds_seq_and_position():
    """The same codewords read with another seq, or swapped, fail their CRCs."""
    k = CODES[0].k
    payload = bytes(range(256)) * 2
    bits = framing.segment(payload, 7, k)
    assert not framing.reassemble(bits, len(payload), 8)[1].any()
    assert not framing.reassemble(bits[[1, 0, 2, 3, 4]], len(payload), 7)[1][:2].any()


def test_all_zero_codeword_fails_crc():
    """The decoder's failure output (all zeros) never passes the CRC."""
    k = CODES[0].k
    assert not framing.reassemble(np.zeros((1, k), np.uint8), 5, 0)[1][0]


def test_codeword_layout_matches_independent_model():
    """Codeword bits = unpackbits(scrambled(data + CRC-32(seq, index, data))) + zero pad."""
    k = CODES[0].k
    per_cw = framing.data_bytes_per_codeword(k)
    assert per_cw == (k - 32) // 8
    payload = b"\x55" * 20
    bits = framing.segment(payload, 3, k)
    data = payload.ljust(per_cw, b"\0")
    row = np.frombuffer(data + struct.pack(">I", zlib.crc32(struct.pack(">HH", 3, 0) + data)), np.uint8)
    scrambled = np.packbits(bits[0, :8 * row.size]) ^ row
    assert np.array_equal(scrambled, framing._scrambler(row.size))
    assert not bits[0, 8 * row.size:].any()


@pytest.mark.parametrize("size", [0, framing.MAX_PAYLOAD_BYTES + 1])
def test_segment_rejects_empty_and_oversized(size):
    """An empty payload, or one longer than MAX_PAYLOAD_BYTES, raises ValueError naming its size."""
    with pytest.raises(ValueError, match=str(size)):
        framing.segment(b"\1" * size, 0, CODES[0].k)


@given(st.one_of(st.sampled_from(sorted(framing.PAYLOAD_TYPES)), st.integers(0, 255)))
def test_payload_type_round_trip(value):
    """Names and ints 0..255 map to a header byte whose name maps back to the same byte."""
    code = framing.payload_type_code(value)
    assert 0 <= code <= 255
    assert framing.payload_type_code(framing.payload_type_name(code)) == code
    if isinstance(value, str):
        assert framing.payload_type_name(code) == value


@pytest.mark.parametrize("bad", ["video", 256, -1, 1.5, True])
def test_payload_type_rejects_unknown(bad):
    """Unknown names, ints outside 0..255, floats and bools raise ValueError."""
    with pytest.raises(ValueError):
        framing.payload_type_code(bad)
