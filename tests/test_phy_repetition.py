#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Symbol repetition (the low-SNR codes ``<code>x<r>``): maximum-ratio combining and the burst
receiver with repeated data, without a flowgraph."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnuradio.uoisc.phy import codes, framing, mapping, pilots, repetition, theory
from gnuradio.uoisc.phy.burst import build_burst, burst_len
from gnuradio.uoisc.phy.receiver import BurstReceiver


def complex_array(rng, size, scale=1.0):
    return (scale * (rng.standard_normal(size) + 1j * rng.standard_normal(size))).astype(np.complex64)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2 ** 31))
def test_one_copy_is_plain_equalisation(m, seed):
    """With r = 1, combining is received / gains with noise / |gains|^2, what the receiver did
    before repetition existed."""
    rng = np.random.default_rng(seed)
    received, gains = complex_array(rng, m), complex_array(rng, m) + 0.1
    noise = rng.uniform(0.01, 2.0, m)
    z, s = repetition.combine(received, gains, noise, 1)
    np.testing.assert_allclose(z, received / gains, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(s, noise / np.abs(gains) ** 2, rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(1, 200), st.integers(0, 2 ** 31))
def test_noiseless_copies_give_the_symbols_back(repeat, m, seed):
    """Copies of x through any nonzero gains combine to x exactly (up to float32)."""
    rng = np.random.default_rng(seed)
    x = mapping.POINTS[rng.integers(0, 8, m)]
    sent = repetition.repeat_symbols(x, repeat)
    assert sent.size == repeat * m
    gains = complex_array(rng, sent.size) + 0.05
    z, _ = repetition.combine(gains * sent, gains, 0.1, repeat)
    np.testing.assert_allclose(z, x, atol=1e-4)


def test_combined_noise_is_that_of_r_copies():
    """On a static channel, combining r copies divides the noise variance by r: the returned
    variance is N0 / (r |h|^2) and the measured error variance agrees within 5 % (20000 complex
    samples: the estimate's relative standard deviation is 1 / sqrt(20000) = 0.7 %)."""
    rng = np.random.default_rng(0)
    repeat, m, n0, h = 4, 20000, 0.5, 0.8 * np.exp(0.3j)
    x = mapping.POINTS[rng.integers(0, 8, m)]
    received = h * repetition.repeat_symbols(x, repeat) + complex_array(rng, repeat * m, np.sqrt(n0 / 2))
    z, s = repetition.combine(received, np.full(received.size, h), n0, repeat)
    expected = n0 / (repeat * abs(h) ** 2)
    np.testing.assert_allclose(s, expected, rtol=1e-9)
    assert np.mean(np.abs(z - x) ** 2) == pytest.approx(expected, rel=0.05)


def test_a_copy_in_a_null_is_ignored():
    """A copy whose gain is 0 adds nothing: the others decide, and no division by zero happens."""
    x = mapping.POINTS[:4]
    gains = np.concatenate([np.zeros(4), np.full(4, 0.5j)])
    received = gains * repetition.repeat_symbols(x, 2)
    z, s = repetition.combine(received, gains, 0.2, 2)
    np.testing.assert_allclose(z, x, atol=1e-6)
    np.testing.assert_allclose(s, 0.2 / 0.25)
    z, s = repetition.combine(np.zeros(8), np.zeros(8), 0.2, 2)  # every copy in the null
    assert np.all(np.isfinite(z)) and np.all(np.isfinite(s))


@pytest.mark.parametrize("repeat", [0, -1, 1.5, True, "2"])
def test_bad_repeat_rejected(repeat):
    """A repetition that is not an int >= 1 raises ValueError naming it."""
    with pytest.raises(ValueError, match="repeat"):
        repetition.check_repeat(repeat)


def test_lengths_that_do_not_split_into_copies_rejected():
    """Symbols and gains of different lengths, or a length not divisible by r, raise ValueError."""
    with pytest.raises(ValueError, match="copies"):
        repetition.combine(np.ones(9), np.ones(9), 1.0, 2)
    with pytest.raises(ValueError, match="copies"):
        repetition.combine(np.ones(8), np.ones(6), 1.0, 2)


def test_repeated_codes_are_registered_with_their_rate():
    """The x<r> codes reuse their base code's alist with r copies: r times fewer bits per symbol,
    and each has its own header id."""
    base = codes.get_code("n1800_k902")
    for repeat in (2, 3, 4):
        code = codes.get_code(f"n1800_k902x{repeat}")
        assert (code.alist, code.n, code.k, code.repeat) == (base.alist, base.n, base.k, repeat)
        assert code.bits_per_symbol == pytest.approx(base.bits_per_symbol / repeat)
        assert code.code_id != base.code_id
        assert burst_len(392, code.n, code.k, 64, pilots.PilotParams(32, 2), repeat) > \
            burst_len(392, base.n, base.k, 64, pilots.PilotParams(32, 2))


@pytest.mark.parametrize("params", [pilots.PilotParams(), pilots.PilotParams(32, 2)])
def test_receiver_combines_the_copies(params):
    """A burst of n1800_k902x4 at 0 dB AWGN: the receiver reads the repeated payload and the
    sign error rate of its LLRs is that of uncoded 8-PSK at 0 + 10 log10 4 = 6 dB (theory with
    perfect CSI; within 25 %, the estimation loss and the count's ~5 % standard deviation),
    far below the 0 dB rate the same burst would have without combining."""
    code = codes.get_code("n1800_k902x4")
    rng = np.random.default_rng(7)
    payload_len = 1500
    header = framing.pack_header(framing.PhyHeader(payload_len, 3, 0, code.code_id, params.interval, params.length))
    coded = rng.integers(0, 2, framing.n_codewords(payload_len, code.k) * code.n).astype(np.uint8)
    burst = build_burst(header, coded, code.n, 64, params, code.repeat)
    n0 = 1.0  # Es/N0 = 0 dB
    noisy = burst + complex_array(rng, burst.size, np.sqrt(n0 / 2))
    rx = BurstReceiver(code.n, code.k, code.code_id, pilot_params=params, repeat=code.repeat)
    (frame,) = rx.push(np.concatenate([noisy, np.zeros(200, np.complex64)]))
    assert frame.llr.size == coded.size
    ber = np.mean((frame.llr > 0) != coded)
    assert ber == pytest.approx(theory.ber_8psk_awgn(10 * np.log10(code.repeat)), rel=0.25)
    assert ber < 0.5 * theory.ber_8psk_awgn(0.0)


def test_receiver_for_the_plain_code_drops_a_repeated_burst():
    """The header names the repeated code, so a receiver of the plain code drops the burst
    (counted as another code) instead of demapping the wrong number of symbols."""
    code, plain = codes.get_code("n1800_k902x2"), codes.get_code("n1800_k902")
    header = framing.pack_header(framing.PhyHeader(100, 0, 0, code.code_id, 0, 0))
    coded = np.zeros(framing.n_codewords(100, code.k) * code.n, np.uint8)
    burst = build_burst(header, coded, code.n, 64, pilots.PilotParams(), code.repeat)
    rx = BurstReceiver(plain.n, plain.k, plain.code_id)
    assert rx.push(np.concatenate([burst, np.zeros(2000, np.complex64)])) == []
    assert rx.stats["wrong_code"] == 1


def test_repetition_modes_are_the_codes_sharing_an_alist():
    """The rate-1/2 code's modes are itself and x2..x4 (one encoder and decoder bank serve them
    all); a code without repeated variants has only itself."""
    assert sorted(codes.repetition_modes("n1800_k902")) == ["n1800_k902", "n1800_k902x2", "n1800_k902x3",
                                                            "n1800_k902x4"]
    assert codes.repetition_modes("n1800_k902x4") == codes.repetition_modes("n1800_k902")
    assert list(codes.repetition_modes("n1100_k442")) == ["n1100_k442"]


def test_receiver_reads_each_burst_with_the_repetition_its_header_names():
    """A receiver of n1800_k902 given the other modes reads a plain burst and an x4 burst from
    one stream, each with its own length and combining: error-free LLR signs at 20 dB."""
    rng = np.random.default_rng(3)
    params = pilots.PilotParams(32, 2)
    stream, sent = [np.zeros(50, np.complex64)], []
    for seq, name in enumerate(("n1800_k902x4", "n1800_k902", "n1800_k902x2")):
        code = codes.get_code(name)
        header = framing.pack_header(framing.PhyHeader(400, seq, 0, code.code_id, params.interval, params.length))
        coded = rng.integers(0, 2, framing.n_codewords(400, code.k) * code.n).astype(np.uint8)
        stream.append(build_burst(header, coded, code.n, 64, params, code.repeat))
        sent.append(coded)
    samples = np.concatenate(stream + [np.zeros(500, np.complex64)])
    samples = samples + complex_array(rng, samples.size, np.sqrt(0.01 / 2))
    base = codes.get_code("n1800_k902")
    others = {m.code_id: m.repeat for m in codes.repetition_modes(base.name).values() if m.code_id != base.code_id}
    rx = BurstReceiver(base.n, base.k, base.code_id, pilot_params=params, other_modes=others)
    frames = rx.push(samples)
    assert [f.header.seq for f in frames] == [0, 1, 2]
    for frame, coded in zip(frames, sent):
        np.testing.assert_array_equal((frame.llr > 0).astype(np.uint8), coded)


def test_burst_builder_default_knows_every_registered_code():
    """A burst builder made without a repeats table builds the bursts of every registered code,
    each with its own repetition (not: drops them all)."""
    from gnuradio.uoisc.phy.burst_builder import burst_builder

    builder = burst_builder(1800)
    assert builder.repeats == {codes.get_code(name).code_id: codes.get_code(name).repeat
                               for name in codes.list_codes()}
