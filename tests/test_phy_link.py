#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Statistics of the whole chain phy_tx -> channel -> phy_rx against theory.

Tolerances: measured BERs are compared with the uncoded Gray 8-PSK theory at
5 binomial standard deviations plus 15% of the expected value, which leaves
room for the receiver's estimation losses (with the default pilots, 4 known
symbols every 64 data symbols, each data symbol is equalised with a gain
interpolated between two pilot blocks: extra noise of at most N0 / 4, ~0.1 dB
on average at these Es/N0, see docs/phy.md) and for the correlation of bits
within a symbol.
"""

import time

import numpy as np
import pmt
import pytest
from gnuradio import blocks, gr

from gnuradio.uoisc.phy import channel, codes, framing, phy_rx, phy_tx, theory
from gnuradio.uoisc.phy.block_fading import block_fading_gains
from gnuradio.uoisc.phy.burst import KNOWN_LEN

CODE = codes.get_code(codes.DEFAULT_CODE)
TIMEOUT_S = 60.0


def stored(debug):
    """{seq: (metadata, numpy payload)} of a message_debug's stored PDUs."""
    out = {}
    for i in range(debug.num_messages()):
        msg = debug.get_message(i)
        meta = pmt.to_python(pmt.car(msg))
        out[meta["seq"]] = (meta, np.asarray(pmt.to_python(pmt.cdr(msg))))
    return out


def run_frames(n_frames, payload_bytes, esno_db, fading, seed):
    """Send n_frames random payloads (seq = index); collect sent, coded bits, LLRs and output."""
    rng = np.random.default_rng(seed)
    payloads = [rng.integers(0, 256, payload_bytes, dtype=np.uint8) for _ in range(n_frames)]
    tb = gr.top_block()
    tx = phy_tx(code=CODE.name)
    link = channel(esno_db=esno_db, fading=fading, seed=seed)
    rx = phy_rx(code=CODE.name, emit_llr=True)
    out, coded, llr = blocks.message_debug(), blocks.message_debug(), blocks.message_debug()
    tb.connect(tx, link, rx)
    tb.msg_connect(rx, "out", out, "store")
    tb.msg_connect(tx, "coded", coded, "store")
    tb.msg_connect(rx, "llr", llr, "store")
    tb.start()
    for seq, payload in enumerate(payloads):
        tx.post_pdu(pmt.cons(pmt.to_pmt({"seq": seq}), pmt.to_pmt(payload)))
    # A frame is lost at its header (no LLRs, no output) or decoded (LLRs, then output):
    # done when every decoded frame is out and no new frame reached the decoder for 1 s.
    deadline, last_llr, quiet_since = time.time() + TIMEOUT_S, -1, time.time()
    while time.time() < deadline and out.num_messages() < n_frames:
        time.sleep(0.1)
        if llr.num_messages() != last_llr:
            last_llr, quiet_since = llr.num_messages(), time.time()
        elif (coded.num_messages() == n_frames and out.num_messages() == last_llr
              and time.time() - quiet_since > 1.0):
            break
    tb.stop()
    tb.wait()
    return payloads, stored(coded), stored(llr), stored(out)


def pre_decoding_errors(coded, llr):
    """(bit errors, bits) of hard decisions on the LLRs against the coded bits, per seq."""
    return {seq: (int(np.sum((llr[seq][1] > 0) != (coded[seq][1] > 0))), coded[seq][1].size)
            for seq in llr}


def post_decoding_errors(payloads, out):
    return {seq: (int(np.sum(np.unpackbits(data.astype(np.uint8) ^ payloads[seq]))), 8 * data.size)
            for seq, (_, data) in out.items()}


def assert_close_to_theory(errors, bits, expected):
    measured = errors / bits
    sigma = np.sqrt(expected * (1 - expected) / bits)
    assert abs(measured - expected) <= 5 * sigma + 0.15 * expected, (measured, expected)


@pytest.mark.parametrize("esno_db, n_frames", [(0.0, 8), (5.0, 12)])
def test_awgn_ber_before_and_after_decoding(esno_db, n_frames):
    """AWGN: pre-decoding BER matches uncoded 8-PSK theory; at 5 dB the LDPC code
    (rate 1/2, Eb/N0 = 3.2 dB) makes the post-decoding BER strictly lower."""
    payloads, coded, llr, out = run_frames(n_frames, 5 * 108, esno_db, "awgn", seed=11)
    assert len(llr) >= n_frames - 1  # the 9 dB-protected header may rarely fail at 0 dB
    pre = np.sum(list(pre_decoding_errors(coded, llr).values()), axis=0)
    assert_close_to_theory(pre[0], pre[1], theory.ber_8psk_awgn(esno_db))
    if esno_db >= 5.0:
        post = np.sum(list(post_decoding_errors(payloads, out).values()), axis=0)
        assert post[0] / post[1] < 0.5 * pre[0] / pre[1]


def test_rayleigh_estimates_and_ber():
    """Block Rayleigh fading (one gain per burst, seed 3) at 10 dB: h_est matches the channel's
    gain within 5 std of the LS error, snr_est_db within 1 dB of |h|^2/N0 where that is > 3 dB,
    the pre-decoding BER matches theory conditioned on each frame's gain, and decoding helps."""
    n_frames, esno_db, seed = 40, 10.0, 3
    payloads, coded, llr, out = run_frames(n_frames, 108, esno_db, "rayleigh", seed)
    gains = block_fading_gains(n_frames, seed)
    n0 = 10 ** (-esno_db / 10)
    assert len(out) >= n_frames * 0.8  # header lost only in deep fades: P(|h|^2 < 0.1) ~ 10%
    for seq, (meta, _) in out.items():
        assert abs(meta["h_est"] - gains[seq]) < 5 * np.sqrt(n0 / KNOWN_LEN)
        true_snr_db = 10 * np.log10(abs(gains[seq]) ** 2 / n0)
        if true_snr_db > 3:
            assert meta["snr_est_db"] == pytest.approx(true_snr_db, abs=1.0)
        assert meta["ldpc_ok"] == bool(np.all(meta["cw_crc_ok"]))
    errors = pre_decoding_errors(coded, llr)
    expected = np.mean([theory.ber_8psk_awgn(10 * np.log10(abs(gains[s]) ** 2 / n0)) for s in errors])
    pre = np.sum(list(errors.values()), axis=0)
    assert_close_to_theory(pre[0], pre[1], expected)
    post = np.sum(list(post_decoding_errors(payloads, out).values()), axis=0)
    assert post[0] / post[1] < pre[0] / pre[1]


def test_crc_flags_tell_good_from_bad_codewords():
    """At 3 dB AWGN (code near its threshold) a codeword flagged OK carries exactly the sent
    bytes, and every codeword with wrong bytes is flagged as failed."""
    payloads, _, _, out = run_frames(6, 10 * 108, 3.0, "awgn", seed=21)
    per_cw = framing.data_bytes_per_codeword(CODE.k)
    for seq, (meta, data) in out.items():
        for i, ok in enumerate(meta["cw_crc_ok"]):
            same = np.array_equal(data[i * per_cw:(i + 1) * per_cw], payloads[seq][i * per_cw:(i + 1) * per_cw])
            if ok:
                assert same
            else:
                assert not same
