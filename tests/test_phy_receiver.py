#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""BurstReceiver (plain numpy RX front end) and block fading, without a flowgraph."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.uoisc.phy import codes, framing, mapping, pilots
from gnuradio.uoisc.phy.block_fading import BlockFadingProcess, block_fading_gains
from gnuradio.uoisc.phy.burst import KNOWN_LEN, build_burst
from gnuradio.uoisc.phy.pilot_estimator import SLIP_DOPPLER
from gnuradio.uoisc.phy.receiver import BurstReceiver

CODE = codes.get_code(codes.DEFAULT_CODE)
NO_PILOTS = pilots.PilotParams()


def make_burst(payload_len, seq, rng, code_id=CODE.code_id, guard=64, params=NO_PILOTS):
    """(burst symbols, coded bits) of a frame with random stand-in coded bits."""
    header = framing.pack_header(framing.PhyHeader(payload_len, seq, 0, code_id, params.interval, params.length))
    coded = rng.integers(0, 2, framing.n_codewords(payload_len, CODE.k) * CODE.n).astype(np.uint8)
    return build_burst(header, coded, CODE.n, guard, params), coded


def awgn(x, esno_db, rng):
    n0 = 10 ** (-esno_db / 10)
    return (x + np.sqrt(n0 / 2) * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size))).astype(np.complex64)


def new_receiver():
    return BurstReceiver(CODE.n, CODE.k, CODE.code_id)


def test_frames_found_with_any_chunking():
    """Three bursts in noise are all found, with the same LLRs, whatever the chunk sizes."""
    rng = np.random.default_rng(0)
    bursts = [make_burst(300, seq, rng) for seq in range(3)]
    stream = awgn(np.concatenate([np.zeros(100)] + [b for b, _ in bursts]), 20.0, rng)
    one_shot = new_receiver().push(stream)
    rx = new_receiver()
    chunked = [f for chunk in np.array_split(stream, 37) for f in rx.push(chunk)]
    assert [f.header.seq for f in one_shot] == [0, 1, 2] == [f.header.seq for f in chunked]
    for a, b, (_, coded) in zip(one_shot, chunked, bursts):
        assert np.array_equal(a.llr, b.llr)
        assert np.array_equal((a.llr > 0).astype(np.uint8), coded)
    assert one_shot[0].sample_offset == 100


def test_gain_and_noise_estimates():
    """h and N0 estimates are within 5 theoretical standard deviations (KNOWN_LEN = 744 known symbols)."""
    rng = np.random.default_rng(1)
    h, esno_db = 0.5 * np.exp(-2.0j), 10.0
    burst, _ = make_burst(200, 9, rng)
    n0 = abs(h) ** 2 * 10 ** (-esno_db / 10)
    noise = np.sqrt(n0 / 2) * (rng.standard_normal(burst.size) + 1j * rng.standard_normal(burst.size))
    (frame,) = new_receiver().push(h * burst + noise)
    assert abs(frame.estimate.h - h) < 5 * np.sqrt(n0 / KNOWN_LEN)
    assert abs(frame.estimate.noise_var - n0) < 5 * n0 / np.sqrt(KNOWN_LEN)
    assert frame.estimate.snr_db == pytest.approx(esno_db, abs=1.0)


def test_noise_only_gives_nothing():
    """Pure noise produces no frame, no header attempt that passes, and a bounded buffer."""
    rng = np.random.default_rng(2)
    rx = new_receiver()
    for _ in range(20):
        assert rx.push(awgn(np.zeros(5000), 0.0, rng)) == []
    assert rx.stats["frames"] == 0
    assert rx._buf.size < mapping.PREAMBLE_LEN


def test_truncated_burst_dropped_next_one_decoded():
    """A burst cut in its payload is dropped (counted) and the burst after it is still received."""
    rng = np.random.default_rng(3)
    first, _ = make_burst(1000, 1, rng)
    second, coded = make_burst(1000, 2, rng)
    cut = first[:mapping.PREAMBLE_LEN + mapping.HEADER_SYMBOLS + 700]
    rx = new_receiver()
    frames = rx.push(awgn(np.concatenate([cut, second]), 20.0, rng))
    assert [f.header.seq for f in frames] == [2]
    assert np.array_equal((frames[0].llr > 0).astype(np.uint8), coded)
    assert rx.stats["truncated"] == 1


def test_corrupted_header_dropped():
    """A burst whose header section is overwritten with random symbols is dropped (header CRC, with
    one gain per copy and with tracked gains, at every timing tried), the next one received."""
    rng = np.random.default_rng(4)
    bad, _ = make_burst(100, 1, rng)
    bad[mapping.PREAMBLE_LEN:KNOWN_LEN] = mapping.POINTS[rng.integers(0, 8, KNOWN_LEN - mapping.PREAMBLE_LEN)]
    good, _ = make_burst(100, 2, rng)
    rx = new_receiver()
    frames = rx.push(awgn(np.concatenate([bad, good]), 25.0, rng))
    assert [f.header.seq for f in frames] == [2]
    assert rx.stats["header_crc_fail"] >= 1


@pytest.mark.parametrize("reported, true_start", [(0, 1), (1, 0)])
def test_header_read_one_sample_off_the_reported_peak(reported, true_start):
    """A preamble reported one sample early or late (what a fast-fading correlation peak does) is
    still read: the header is tried at the peak and one sample either side, the burst delivered
    at its true offset and counted as retimed."""
    rng = np.random.default_rng(12)
    burst, coded = make_burst(300, 5, rng)
    rx = new_receiver()
    rx._buf = awgn(np.concatenate([np.zeros(true_start), burst, np.zeros(100)]), 25.0, rng)
    assert rx._read_header(reported) is None  # arms the payload wait
    assert rx.stats["header_retimed"] == 1
    (frame,) = rx.push(np.zeros(0, np.complex64))
    assert frame.header.seq == 5 and frame.sample_offset == true_start
    assert np.array_equal((frame.llr > 0).astype(np.uint8), coded)


def test_other_code_dropped():
    """A burst announcing another code id is dropped, not decoded."""
    rng = np.random.default_rng(5)
    other, _ = make_burst(100, 1, rng, code_id=CODE.code_id + 1)
    rx = new_receiver()
    assert rx.push(awgn(other, 25.0, rng)) == []
    assert rx.stats["wrong_code"] == 1


def test_bad_threshold_rejected():
    """A detection threshold outside (0, 1) raises ValueError."""
    with pytest.raises(ValueError, match="1.5"):
        BurstReceiver(CODE.n, CODE.k, CODE.code_id, threshold=1.5)


@pytest.mark.parametrize("block_len", [1, 7, 1000])
def test_fixed_block_fading_follows_model(block_len):
    """Chunked application equals the gains of block_fading_gains repeated block_len times."""
    process = BlockFadingProcess(block_len, seed=3)
    x = np.ones(2000, np.complex64)
    y = np.concatenate([process.apply(chunk) for chunk in np.array_split(x, 13)])
    gains = block_fading_gains(-(-2000 // block_len), seed=3)
    assert np.allclose(y, np.repeat(gains, block_len)[:2000])


def test_burst_block_fading_follows_model():
    """With block_len 0 a new gain starts at each given burst start, drawn in order."""
    process = BlockFadingProcess(0, seed=4)
    y = np.concatenate([process.apply(np.ones(30), [0, 20]), process.apply(np.ones(70), [10, 50])])
    gains = block_fading_gains(4, seed=4)
    assert np.allclose(y, np.repeat(gains, [20, 20, 40, 20]))


def test_fading_gains_have_unit_power():
    """E|h|^2 = 1 within 5 standard deviations (|h|^2 is exponential: std 1)."""
    gains = block_fading_gains(20000, seed=1)
    assert abs(np.mean(np.abs(gains) ** 2) - 1) < 5 / np.sqrt(20000)


def test_non_finite_samples_do_not_break_the_receiver():
    """NaN/inf samples in a burst are zeroed and counted, no exception; the next clean burst is received."""
    rng = np.random.default_rng(6)
    broken, _ = make_burst(200, 1, rng)
    broken[700:720] = np.nan
    broken[10] = np.inf
    good, coded = make_burst(200, 2, rng)
    rx = new_receiver()
    frames = rx.push(np.concatenate([awgn(broken, 20.0, rng), awgn(good, 20.0, rng)]))
    assert frames[-1].header.seq == 2
    assert np.array_equal((frames[-1].llr > 0).astype(np.uint8), coded)
    assert all(np.all(np.isfinite(f.llr)) for f in frames)
    assert rx.stats["non_finite"] == 21


def doppler_stream(n_frames, esno_db, doppler, seed, params=NO_PILOTS):
    """Bursts of 10 codewords through channels.fading_model + AWGN; returns (samples, coded bits)."""
    from gnuradio import blocks, channels, gr
    rng = np.random.default_rng(seed)
    bursts = [make_burst(1080, seq, rng, params=params) for seq in range(n_frames)]
    tb = gr.top_block()
    source = blocks.vector_source_c(np.concatenate([b for b, _ in bursts]).tolist())
    sink = blocks.vector_sink_c()
    tb.connect(source, channels.fading_model(8, doppler, False, 4.0, seed + 1), sink)
    tb.run()
    return awgn(np.array(sink.data()), esno_db, rng), [coded for _, coded in bursts]


def clean_frames(samples, coded, params, max_ber=0.05):
    """Frames received with a raw (pre-decoding) BER below max_ber."""
    frames = BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=params).push(samples)
    return sum(np.mean((f.llr > 0) != coded[f.header.seq]) < max_ber for f in frames)


def test_pilots_follow_fast_doppler():
    """Rayleigh with fD*Ts = 1e-3 at 20 dB, 20 bursts of 10 codewords (~6 400 symbols, 6 Doppler
    periods): one gain per burst leaves every frame with a raw BER far above 5% (the phase turns
    many times within the burst); the default pilots (2 every 32 data symbols, i.e. 29 pilot blocks
    per Doppler period, far above Nyquist's 2) keep the raw BER of at least 80% of the frames
    below 5% (uncoded 8-PSK at 20 dB averaged over Rayleigh fading: ~1.2%)."""
    pilot_params = pilots.PilotParams(pilots.DEFAULT_INTERVAL, pilots.DEFAULT_LENGTH)
    samples, coded = doppler_stream(20, 20.0, 1e-3, seed=7)
    assert clean_frames(samples, coded, NO_PILOTS) <= 2
    samples, coded = doppler_stream(20, 20.0, 1e-3, seed=7, params=pilot_params)
    assert clean_frames(samples, coded, pilot_params) >= 16


def test_auto_pilot_filter_follows_doppler_1e_2():
    """Rayleigh with fD*Ts = 1e-2 (GNU Radio's fading_model) at 20 dB, 20 bursts: the default
    receiver, not told the Doppler, reads every header (the header section's own pilots) and keeps
    the raw BER of at least 80% of the frames below 5% (theory with perfect CSI ~1.2%, the pilot
    filter at 2/3 of its Nyquist limit adds ~40%); a filter designed for 1e-3 cannot follow it."""
    pilot_params = pilots.PilotParams(pilots.DEFAULT_INTERVAL, pilots.DEFAULT_LENGTH)
    samples, coded = doppler_stream(20, 20.0, 1e-2, seed=3, params=pilot_params)
    rx = BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=pilot_params)
    frames = rx.push(samples)
    assert len(frames) == 20
    assert sum(np.mean((f.llr > 0) != coded[f.header.seq]) < 0.05 for f in frames) >= 16
    slow = BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=pilot_params, pilot_doppler=1e-3)
    assert sum(np.mean((f.llr > 0) != coded[f.header.seq]) < 0.05 for f in slow.push(samples)) <= 2


def test_pilots_on_static_channel_exact_at_high_snr():
    """On a constant gain at 25 dB the pilot receiver makes no hard-decision error, its gains
    all equal the true gain within 5 standard deviations of a single pilot block's estimate, and
    its SNR estimate (mean |h_t|^2 / N0) is within 0.5 dB of |h|^2 / N0."""
    rng = np.random.default_rng(8)
    params = pilots.PilotParams(32, 2)
    h = 0.6 * np.exp(2.5j)
    burst, coded = make_burst(500, 1, rng, params=params)
    samples = h * burst
    n0 = 10 ** (-25 / 10) * abs(h) ** 2
    samples = (samples + np.sqrt(n0 / 2) * (rng.standard_normal(samples.size)
                                            + 1j * rng.standard_normal(samples.size))).astype(np.complex64)
    (frame,) = BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=params).push(samples)
    assert np.array_equal((frame.llr > 0).astype(np.uint8), coded)
    assert np.max(np.abs(frame.gains - h)) < 5 * np.sqrt(n0 / params.length)
    assert frame.snr_db == pytest.approx(10 * np.log10(abs(h) ** 2 / n0), abs=0.5)


def test_pilots_follow_a_phase_jump():
    """A 45-degree phase step (a Costas-loop slip) in the middle of the payload at 25 dB: the pilot
    receiver designed for SLIP_DOPPLER (as behind the air modem: a step is no Doppler spread, the
    "auto" estimate does not see it) leaves errors only between the two pilot blocks around the step (at most one
    interval's worth of symbols, 3 bits each), where one gain per burst gets about every symbol
    after it wrong (raw BER far above 5%)."""
    rng = np.random.default_rng(10)
    params = pilots.PilotParams(64, 4)
    burst, coded = make_burst(1080, 1, rng, params=params)
    step_at = burst.size // 2
    rotated = burst * np.where(np.arange(burst.size) < step_at, 1, np.exp(1j * np.pi / 4))
    samples = awgn(rotated, 25.0, rng)
    (frame,) = BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=params,
                             pilot_doppler=SLIP_DOPPLER).push(samples)
    assert np.sum((frame.llr > 0) != coded) <= 3 * params.interval
    no_pilot_burst, no_pilot_coded = make_burst(1080, 1, rng)
    step = np.where(np.arange(no_pilot_burst.size) < no_pilot_burst.size // 2, 1, np.exp(1j * np.pi / 4))
    assert clean_frames(awgn(no_pilot_burst * step, 25.0, rng), [None, no_pilot_coded], NO_PILOTS) == 0


def test_pilot_layout_mismatch_dropped_loudly():
    """A burst whose header announces another pilot layout than the receiver's is dropped and
    counted as ``wrong_pilots`` (never decoded with the wrong layout)."""
    rng = np.random.default_rng(11)
    burst, _ = make_burst(300, 1, rng, params=pilots.PilotParams(64, 4))
    for expected in (NO_PILOTS, pilots.PilotParams(64, 2), pilots.PilotParams(128, 4)):
        rx = BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=expected)
        assert rx.push(awgn(burst, 25.0, rng)) == []
        assert rx.stats["wrong_pilots"] == 1


def test_bad_pilot_params_rejected():
    """A receiver given something else than PilotParams raises ValueError naming it."""
    with pytest.raises(ValueError, match="64"):
        BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=(64, 4))


def test_reset_forgets_partial_burst_and_keeps_stream_offsets():
    """After reset() the first half of a burst is forgotten (its second half gives nothing) and
    a following burst is reported at its true stream offset."""
    rng = np.random.default_rng(9)
    first, _ = make_burst(300, 1, rng)
    second, _ = make_burst(300, 2, rng)
    rx = new_receiver()
    half = first.size // 2
    assert rx.push(awgn(first[:half], 25.0, rng)) == []
    rx.reset()
    frames = rx.push(awgn(np.concatenate([first[half:], second]), 25.0, rng))
    assert [f.header.seq for f in frames] == [2]
    assert frames[0].sample_offset == first.size


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 300), st.integers(0, 15), st.integers(0, 2**32 - 1))
def test_tx_burst_and_rx_agree_for_any_pilot_layout(payload_len, interval, length, seed):
    """For any payload length and pilot layout (both 0, or both > 0), the burst that burst.build_burst
    makes (interleaver + pilots) is read back by the receiver configured alike with every hard
    decision equal to the coded bit (noiseless, gain 0.5j): TX and RX share one layout."""
    if (interval == 0) != (length == 0):
        interval, length = 0, 0
    params = pilots.PilotParams(interval, length)
    rng = np.random.default_rng(seed)
    burst, coded = make_burst(payload_len, 3, rng, params=params)
    (frame,) = BurstReceiver(CODE.n, CODE.k, CODE.code_id, pilot_params=params).push(0.5j * burst)
    assert np.array_equal((frame.llr > 0).astype(np.uint8), coded)
