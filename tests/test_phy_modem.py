#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Symbol-level PHY modules: mapping, demapper, estimator, preamble sync."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gnuradio import digital
from gnuradio.uoisc.phy import demapper, estimator, framing, mapping, sync
from gnuradio.uoisc.phy.burst import build_burst


def test_constellation_is_gray_and_unit_energy():
    """Neighbouring 8-PSK points differ in exactly one bit, and E|x|^2 = 1."""
    order = np.argsort(np.angle(mapping.POINTS))
    for a, b in zip(order, np.roll(order, -1)):
        assert np.sum(mapping.LABELS[a] != mapping.LABELS[b]) == 1
    assert np.mean(np.abs(mapping.POINTS) ** 2) == pytest.approx(1.0, abs=1e-6)


def test_mapping_matches_gnuradio_constellation():
    """map_8psk(bits of value v) is digital.constellation_8psk().map_to_points_v(v)."""
    const = digital.constellation_8psk()
    for value in range(8):
        bits = [(value >> 2) & 1, (value >> 1) & 1, value & 1]
        assert mapping.map_8psk(bits)[0] == pytest.approx(const.map_to_points_v(value)[0], abs=1e-6)


def test_preamble_is_8psk_with_low_sidelobes():
    """Preamble symbols are constellation points; aperiodic sidelobes stay below 1/8 of the peak."""
    dist = np.abs(mapping.PREAMBLE[:, None] - mapping.POINTS[None, :]).min(axis=1)
    assert dist.max() < 1e-5
    corr = np.abs(np.correlate(mapping.PREAMBLE, mapping.PREAMBLE, "full"))
    peak = corr[mapping.PREAMBLE_LEN - 1]
    assert np.delete(corr, mapping.PREAMBLE_LEN - 1).max() < peak / 8


@given(hnp.arrays(np.uint8, st.integers(1, 300), elements=st.integers(0, 1)))
def test_noiseless_demapping_recovers_bits(bits):
    """Hard decisions on the LLRs of noiseless symbols give the bits back (positive = 1)."""
    llr = demapper.maxlog_llr(mapping.map_8psk(bits), 0.1)
    assert np.array_equal((llr[:bits.size] > 0).astype(np.uint8), bits)
    assert np.all(llr[bits.size:] < 0)  # padding bits are zeros


def test_llr_matches_exact_log_ratio_at_high_snr():
    """Max-log LLRs are within 5% of the exact LLR (log-sum-exp) at Es/N0 = 15 dB."""
    rng = np.random.default_rng(1)
    n0 = 10 ** -1.5
    sym = mapping.POINTS[rng.integers(0, 8, 2000)]
    z = sym + np.sqrt(n0 / 2) * (rng.standard_normal(2000) + 1j * rng.standard_normal(2000))
    metric = -np.abs(z[:, None] - mapping.POINTS[None, :]) ** 2 / n0
    exact = np.stack([np.logaddexp.reduce(metric[:, mapping.LABELS[:, b] == 1], axis=1)
                      - np.logaddexp.reduce(metric[:, mapping.LABELS[:, b] == 0], axis=1)
                      for b in range(3)], axis=1).ravel()
    approx = demapper.maxlog_llr(z, n0)
    keep = np.abs(exact) < demapper.LLR_CLIP
    assert np.allclose(approx[keep], exact[keep], rtol=0.05, atol=0.05)


def test_llr_guards_clip_and_avoid_zero():
    """LLRs are clipped to +-LLR_CLIP and never closer to 0 than LLR_MIN_ABS (decoder NaN trap)."""
    z = np.array([0.0, mapping.POINTS[0] * 100, (mapping.POINTS[0] + mapping.POINTS[4]) / 2])
    llr = demapper.maxlog_llr(z, 1e-4)
    assert np.all(np.abs(llr) <= demapper.LLR_CLIP)
    assert np.all(np.abs(llr) >= demapper.LLR_MIN_ABS)


def test_llr_rejects_non_positive_noise():
    """A noise variance <= 0 raises ValueError."""
    with pytest.raises(ValueError, match="noise_var"):
        demapper.maxlog_llr(mapping.POINTS, 0.0)


@pytest.mark.parametrize("esno_db", [0.0, 10.0])
def test_ls_estimate_within_theoretical_error(esno_db):
    """LS h and N0 from 576 known symbols are within 5 standard deviations of the truth.

    Theory: std(h_est) = sqrt(N0 / N); std(N0_est) ~ N0 / sqrt(N).
    """
    rng = np.random.default_rng(int(esno_db) + 3)
    n0 = 10 ** (-esno_db / 10)
    h = 0.8 * np.exp(1.1j)
    ref = mapping.POINTS[rng.integers(0, 8, 576)]
    noise = np.sqrt(n0 / 2) * (rng.standard_normal(576) + 1j * rng.standard_normal(576))
    est = estimator.estimate_channel(h * ref + noise, ref)
    assert abs(est.h - h) < 5 * np.sqrt(n0 / 576)
    assert abs(est.noise_var - n0) < 5 * n0 / np.sqrt(576)
    assert est.snr_db == pytest.approx(10 * np.log10(abs(est.h) ** 2 / est.noise_var))


def test_estimator_rejects_bad_shapes():
    """Mismatched lengths or a single symbol raise ValueError."""
    with pytest.raises(ValueError):
        estimator.estimate_channel(np.ones(4), np.ones(3))
    with pytest.raises(ValueError):
        estimator.estimate_channel(np.ones(1), np.ones(1))


@pytest.mark.parametrize("segments", [1, sync.SEARCH_SEGMENTS])
@pytest.mark.parametrize("offset, gain", list(itertools.product([0, 37, 500], [1.0, 0.3j])))
def test_preamble_found_at_exact_offset_at_0db(offset, gain, segments):
    """At Es/N0 = 0 dB in random 8-PSK data the preamble is located exactly, with the coherent
    metric and with the burst search's halves."""
    rng = np.random.default_rng(offset)
    data = mapping.POINTS[rng.integers(0, 8, 1200)]
    data[offset:offset + mapping.PREAMBLE_LEN] = mapping.PREAMBLE
    x = gain * data + np.sqrt(abs(gain) ** 2 / 2) * (rng.standard_normal(1200) + 1j * rng.standard_normal(1200))
    metric = sync.correlation_metric(x, mapping.PREAMBLE, segments)
    assert sync.find_preamble(metric, sync.DEFAULT_THRESHOLD, mapping.PREAMBLE_LEN) == (offset, True)


@pytest.mark.parametrize("segments", [1, sync.SEARCH_SEGMENTS])
def test_no_detection_in_noise_or_zeros(segments):
    """Noise alone, or silence, never crosses the detection threshold (noise floor segments / 64)."""
    rng = np.random.default_rng(5)
    noise = (rng.standard_normal(50000) + 1j * rng.standard_normal(50000)).astype(np.complex64)
    for x in (noise, np.zeros(1000, np.complex64)):
        metric = sync.correlation_metric(x, mapping.PREAMBLE, segments)
        assert sync.find_preamble(metric, sync.DEFAULT_THRESHOLD, mapping.PREAMBLE_LEN) == (None, True)


def test_preamble_halves_tolerate_a_turning_gain():
    """A noiseless preamble whose gain turns by 2 pi over it (a fast fade's phase): the coherent
    metric collapses (|mean of e^{j 2 pi t / 64}|^2 = 0), the halves keep the mean of
    |mean over a half|^2 = (2 / pi)^2 = 0.41, above the threshold; a static preamble scores 1
    with any number of parts."""
    turning = mapping.PREAMBLE * np.exp(2j * np.pi * np.arange(mapping.PREAMBLE_LEN) / mapping.PREAMBLE_LEN)
    coherent = sync.correlation_metric(turning, mapping.PREAMBLE)[0]
    halves = sync.correlation_metric(turning, mapping.PREAMBLE, 2)[0]
    assert coherent < 0.01 and halves > sync.DEFAULT_THRESHOLD
    for segments in (1, 2, 4):
        assert sync.correlation_metric(mapping.PREAMBLE, mapping.PREAMBLE, segments)[0] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="segments"):
        sync.correlation_metric(turning, mapping.PREAMBLE, 3)


@given(st.binary(min_size=framing.HEADER_BYTES, max_size=framing.HEADER_BYTES))
def test_header_symbols_round_trip(header_bytes):
    """Combined soft bits of the repeated BPSK header give the header bytes back."""
    soft = mapping.header_soft_bits(mapping.header_symbols(header_bytes))
    assert np.packbits((soft < 0).astype(np.uint8)).tobytes() == header_bytes


def test_burst_layout():
    """Without payload pilots a burst is preamble + 640 header symbols + their 20 pilot blocks of 2
    (the header section's fixed layout) + ceil(bits/3) payload symbols + guard zeros (two codewords
    of 901 bits: 601 symbols)."""
    burst = build_burst(bytes(framing.HEADER_BYTES), np.ones(1802, np.uint8), 901, guard_len=10)
    assert mapping.HEADER_SYMBOLS == 640
    assert burst.size == mapping.PREAMBLE_LEN + mapping.HEADER_SYMBOLS + 20 * 2 + 601 + 10
    assert np.array_equal(burst[:mapping.PREAMBLE_LEN], mapping.PREAMBLE)
    assert not burst[-10:].any()
    with pytest.raises(ValueError, match="-1"):
        build_burst(bytes(framing.HEADER_BYTES), np.ones(3, np.uint8), 3, guard_len=-1)


def test_guard_turns_nan_into_erasure():
    """A NaN LLR becomes +LLR_MIN_ABS (an erasure the decoder can handle), never NaN."""
    llr = demapper.guard_llr(np.array([np.nan, -np.inf, np.inf], dtype=np.float32))
    assert llr.tolist() == pytest.approx([demapper.LLR_MIN_ABS, -demapper.LLR_CLIP, demapper.LLR_CLIP])
