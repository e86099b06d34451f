"""Tests of gnuradio.uoisc.phy.metrics (plain numpy link metrics)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from gnuradio.uoisc.phy import metrics


def test_bits_from_bytes_is_msb_first():
    """0x80 unpacks to a leading 1, 0x01 to a trailing 1."""
    np.testing.assert_array_equal(metrics.bits_from_bytes(b"\x80\x01"),
                                  [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])


@given(st.binary(min_size=1, max_size=64), st.data())
def test_bit_errors_count_flipped_bits(payload, data):
    """Flipping a chosen set of bit positions gives exactly that many bit errors."""
    bits = metrics.bits_from_bytes(payload)
    flips = data.draw(st.sets(st.integers(0, bits.size - 1)))
    corrupted = bits.copy()
    corrupted[list(flips)] ^= 1
    assert metrics.count_bit_errors(bits, corrupted) == len(flips)


def test_bit_errors_refuse_length_mismatch():
    """Arrays of different lengths are a ValueError naming both lengths."""
    with pytest.raises(ValueError, match="sent 3, received 2"):
        metrics.count_bit_errors([0, 1, 0], [0, 1])


def test_hard_decisions_follow_positive_is_one():
    """LLR > 0 means bit 1 (gr-fec's decoder convention); 0 and negatives are 0."""
    np.testing.assert_array_equal(metrics.hard_decisions([2.0, -0.5, 0.0, 1e-3]), [1, 0, 0, 1])


@given(st.binary(min_size=1, max_size=300), st.integers(1, 40), st.data())
def test_codeword_error_flags_mark_exactly_the_corrupted_codewords(payload, per_cw, data):
    """A codeword is flagged iff one of its bytes was changed (last one may be short)."""
    received = bytearray(payload)
    positions = data.draw(st.sets(st.integers(0, len(payload) - 1), max_size=5))
    for p in positions:
        received[p] ^= 0xFF
    flags = metrics.codeword_error_flags(payload, bytes(received), per_cw)
    assert flags.size == -(-len(payload) // per_cw)
    assert set(np.flatnonzero(flags)) == {p // per_cw for p in positions}


def test_crc_flag_confusion_counts_each_case():
    """Each of the four (flag, truth) combinations lands in its own counter."""
    confusion = metrics.crc_flag_confusion(crc_ok=[1, 0, 1, 0, 1], has_errors=[0, 1, 1, 0, 0])
    assert confusion == {"flagged_bad_with_errors": 1, "flagged_bad_but_clean": 1,
                         "flagged_ok_with_errors": 1, "flagged_ok_clean": 2}


def test_snr_estimate_error_uses_linear_mean():
    """Estimates of 7 and 13 dB around a 10 dB truth average (linearly) above 10 dB,
    and the rms error is exactly 3 dB."""
    result = metrics.snr_estimate_error_db([7.0, 13.0], 10.0)
    expected = 10 * np.log10((10**0.7 + 10**1.3) / 2) - 10
    assert result["mean_error_db"] == pytest.approx(expected)
    assert result["rms_error_db"] == pytest.approx(3.0)
    assert metrics.snr_estimate_error_db([], 10.0)["mean_error_db"] is None


def test_link_stats_summary_counts_frames_bits_and_throughput():
    """One clean frame, one frame with one flipped bit in codeword 1 (flagged),
    one lost frame: FER 2/3, BER 1/64, CRC flags all right, throughput = clean bits / s."""
    stats = metrics.LinkStats()
    stats.add_delivered(b"abcd", b"abcd", cw_crc_ok=[1, 1], bytes_per_codeword=2, snr_est_db=10.0)
    stats.add_delivered(b"wxyz", b"wxy{", cw_crc_ok=[1, 0], bytes_per_codeword=2, snr_est_db=10.0)
    stats.add_lost()
    stats.add_coded_frame([1, 0, 1, 1], [0.5, -2.0, -1.0, 3.0])
    summary = stats.summary(elapsed_s=2.0, true_esno_db=10.0)
    assert summary["frames_sent"] == 3 and summary["frames_lost"] == 1
    assert summary["fer"] == pytest.approx(2 / 3)
    assert summary["ber_post_decoding"] == pytest.approx(1 / 64)
    assert summary["ber_pre_decoding"] == pytest.approx(1 / 4)
    assert summary["crc_flag_accuracy"] == 1.0
    assert summary["info_throughput_bps"] == pytest.approx(32 / 2.0)
    assert summary["snr_estimate"]["mean_error_db"] == pytest.approx(0.0)


def test_link_stats_undetected_error_lowers_crc_accuracy():
    """A wrong codeword whose CRC says ok counts as an undetected error."""
    stats = metrics.LinkStats()
    stats.add_delivered(b"ab", b"aX", cw_crc_ok=[1], bytes_per_codeword=2)
    summary = stats.summary()
    assert summary["crc_flags"]["flagged_ok_with_errors"] == 1
    assert summary["crc_flag_accuracy"] == 0.0
    assert "info_throughput_bps" not in summary


def test_link_stats_length_mismatch_counts_whole_frame_wrong():
    """A delivered payload of the wrong length counts all its sent bits as errors."""
    stats = metrics.LinkStats()
    stats.add_delivered(b"abc", b"ab", cw_crc_ok=[1], bytes_per_codeword=8)
    summary = stats.summary()
    assert summary["frames_wrong"] == 1
    assert summary["ber_post_decoding"] == 1.0


def test_link_stats_counts_frames_with_wrong_number_of_crc_flags():
    """Two CRC flags for a one-codeword payload are not scored but counted as a mismatch."""
    stats = metrics.LinkStats()
    stats.add_delivered(b"ab", b"ab", cw_crc_ok=[1, 1], bytes_per_codeword=8)
    summary = stats.summary()
    assert summary["crc_flag_count_mismatches"] == 1
    assert summary["crc_flag_accuracy"] is None
