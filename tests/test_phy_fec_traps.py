#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The gr-fec 3.10.5 behaviours the PHY relies on, pinned down on the stock blocks.

If an update of GNU Radio changes one of them, these tests say which assumption broke.
"""

import numpy as np
import pytest
from gnuradio import blocks, fec, gr

from gnuradio.uoisc.phy import codes, demapper
from gnuradio.uoisc.phy.phy_rx import DECODER_SIGMA

CODE = codes.get_code(codes.DEFAULT_CODE)


@pytest.fixture(scope="module")
def codewords():
    """Two random information blocks and their codewords from the stock stream encoder."""
    info = np.random.default_rng(0).integers(0, 2, 2 * CODE.k).astype(np.uint8)
    tb = gr.top_block()
    sink = blocks.vector_sink_b()
    tb.connect(blocks.vector_source_b(info.tolist()),
               fec.encoder(fec.ldpc_encoder_make(CODE.alist), gr.sizeof_char, gr.sizeof_char), sink)
    tb.run()
    return info, np.array(sink.data(), dtype=np.uint8)


def decode(llr):
    """LLRs through the stock extended_decoder with one ldpc_decoder, as phy_rx builds it."""
    tb = gr.top_block()
    sink = blocks.vector_sink_b()
    decoder = fec.extended_decoder([fec.ldpc_decoder.make(CODE.alist, DECODER_SIGMA, 50)], threading=None)
    tb.connect(blocks.vector_source_f(np.asarray(llr, np.float32).tolist()), decoder, sink)
    tb.run()
    return np.array(sink.data(), dtype=np.uint8)


def noisy_llr(coded, seed):
    """LLRs of BPSK-like observations: mean +-2 (positive = 1), noise std 1.5 (~9% raw errors)."""
    rng = np.random.default_rng(seed)
    return np.where(coded == 1, 2.0, -2.0) + 1.5 * rng.standard_normal(coded.size)


def test_encoder_is_systematic_with_info_last(codewords):
    """ldpc_encoder_make puts the k information bits at the end of each n-bit codeword."""
    info, coded = codewords
    assert coded.size == 2 * CODE.n
    for i in range(2):
        assert np.array_equal(coded[i * CODE.n + CODE.n - CODE.k:(i + 1) * CODE.n], info[i * CODE.k:(i + 1) * CODE.k])


def test_decoder_reads_positive_llr_as_one(codewords):
    """With positive = bit 1 the decoder corrects ~9% raw errors; the opposite sign gets every bit wrong."""
    info, coded = codewords
    llr = noisy_llr(coded, seed=1)
    assert np.array_equal(decode(llr), info)
    assert np.mean(decode(-llr) != info) > 0.4


def test_exact_zero_llr_kills_the_codeword_and_the_guard_fixes_it(codewords):
    """One LLR of exactly 0 makes the decoder output an all-zero codeword (tanh(0) division);
    demapper.guard_llr's minimum magnitude restores the decoding."""
    info, coded = codewords
    llr = noisy_llr(coded, seed=2)
    llr[5] = 0.0
    out = decode(llr)
    assert not out[:CODE.k].any() and info[:CODE.k].any()
    assert np.array_equal(out[CODE.k:], info[CODE.k:])  # the other codeword is unaffected
    assert np.array_equal(decode(demapper.guard_llr(llr)), info)
