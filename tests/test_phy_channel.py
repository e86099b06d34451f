#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The channel hier block: Es/N0 calibration, fading model, alignment, reproducibility."""

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.uoisc.phy import channel
from gnuradio.uoisc.phy.block_fading import block_fading_gains

N = 100_000


def run_channel(samples, tags=(), **kwargs):
    """Samples (with optional (offset, key, value) tags) through channel(**kwargs)."""
    tag_objs = [gr.tag_utils.python_to_tag((offset, pmt.intern(key), pmt.from_long(value), pmt.PMT_NIL))
                for offset, key, value in tags]
    tb = gr.top_block()
    source = blocks.vector_source_c(np.asarray(samples, np.complex64).tolist(), False, 1, tag_objs)
    link = channel(**kwargs)
    sink = blocks.vector_sink_c()
    tb.connect(source, link, sink)
    tb.run()
    return np.array(sink.data())


@pytest.mark.parametrize("esno_db", [0.0, 10.0])
def test_awgn_noise_variance_is_n0(esno_db):
    """AWGN mode on a silent input: same length, complex noise power N0 = 10^(-Es/N0/10)
    within 5 standard deviations (the power estimate of N samples has std N0/sqrt(N))."""
    out = run_channel(np.zeros(N), esno_db=esno_db, fading="awgn", seed=1)
    n0 = 10 ** (-esno_db / 10)
    assert out.size == N
    assert abs(np.mean(np.abs(out) ** 2) - n0) < 5 * n0 / np.sqrt(N)


def test_fixed_block_fading_matches_model():
    """Rayleigh with block_len 1000 at 80 dB: output / input = block_fading_gains(seed) per block."""
    x = np.exp(2j * np.pi * np.random.default_rng(0).random(N))
    out = run_channel(x, esno_db=80.0, fading="rayleigh", block_len=1000, seed=4)
    expected = np.repeat(block_fading_gains(N // 1000, seed=4), 1000)
    assert np.allclose(out / x, expected, atol=1e-3)


def test_burst_fading_changes_at_packet_len_tags():
    """With block_len 0 a new gain starts at each packet_len tag, in the model's order."""
    x = np.ones(3000)
    out = run_channel(x, tags=[(0, "packet_len", 1000), (1000, "packet_len", 1500), (2500, "packet_len", 500)],
                      esno_db=80.0, fading="rayleigh", seed=2)
    gains = block_fading_gains(3, seed=2)
    assert np.allclose(out, np.repeat(gains, [1000, 1500, 500]), atol=1e-3)


def test_seeded_runs_are_reproducible():
    """The same seed gives the same output; another seed a different one."""
    x = np.ones(5000)
    a = run_channel(x, esno_db=5.0, fading="rayleigh", block_len=100, seed=3)
    b = run_channel(x, esno_db=5.0, fading="rayleigh", block_len=100, seed=3)
    c = run_channel(x, esno_db=5.0, fading="rayleigh", block_len=100, seed=4)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_doppler_fading_keeps_length_and_unit_power():
    """channels.fading_model path (fD*Ts = 0.01): no sample dropped and E|h|^2 = 1 within 10%
    (about 2 000 coherence times averaged)."""
    out = run_channel(np.ones(N), esno_db=80.0, fading="rayleigh", doppler=0.01, seed=5)
    assert out.size == N
    assert abs(np.mean(np.abs(out) ** 2) - 1) < 0.1
