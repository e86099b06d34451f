#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of the whole chain phy_tx -> channel -> phy_rx (and phy_rx alone on garbage)."""

import time

import numpy as np
import pmt
from gnuradio import analog, blocks, gr, gr_unittest

from gnuradio.uoisc.phy import channel, codes, framing, phy_rx, phy_tx

CODE = codes.get_code(codes.DEFAULT_CODE)
ONE_CODEWORD = framing.data_bytes_per_codeword(CODE.k)
TIMEOUT_S = 30.0


def pdu(payload, **meta):
    return pmt.cons(pmt.to_pmt(meta), pmt.to_pmt(np.asarray(payload, dtype=np.uint8)))


def wait_for(sink, count, timeout=TIMEOUT_S):
    deadline = time.time() + timeout
    while sink.num_messages() < count and time.time() < deadline:
        time.sleep(0.01)


def received(sink):
    """(metadata dict, payload array) of every stored PDU."""
    out = []
    for i in range(sink.num_messages()):
        msg = sink.get_message(i)
        out.append((pmt.to_python(pmt.car(msg)), np.asarray(pmt.to_python(pmt.cdr(msg)), dtype=np.uint8)))
    return out


class qa_phy_loopback(gr_unittest.TestCase):

    def run_link(self, payloads, esno_db=30.0, fading="awgn", threading="capillary", n_decoders=2, seed=1,
                 code=CODE, pdu_codes=None, any_repeat=False, expected=None):
        """Send payloads (seq = index; PDU metadata ``code`` from ``pdu_codes`` when given) through
        tx -> channel -> rx; return the received PDUs once ``expected`` (default: all) arrived."""
        tb = gr.top_block()
        tx = phy_tx(code=code.name)
        rx = phy_rx(code=code.name, threading=threading, n_decoders=n_decoders, any_repeat=any_repeat)
        sink = blocks.message_debug()
        # Keep a Python reference: a garbage-collected Python block crashes the running graph.
        link = channel(esno_db=esno_db, fading=fading, seed=seed)
        tb.connect(tx, link, rx)
        tb.msg_connect(rx, "out", sink, "store")
        tb.start()
        for seq, payload in enumerate(payloads):
            extra = {} if pdu_codes is None else {"code": pdu_codes[seq]}
            tx.post_pdu(pdu(payload, seq=seq, payload_type="jpeg2000", **extra))
        wait_for(sink, len(payloads) if expected is None else expected)
        tb.stop()
        tb.wait()
        return received(sink)

    def assert_delivered(self, payloads, result, code=CODE):
        self.assertEqual(len(result), len(payloads))
        for seq, (meta, data) in enumerate(result):
            self.assertEqual(meta["seq"], seq)
            self.assertEqual(meta["payload_type"], "jpeg2000")
            self.assertTrue(meta["ldpc_ok"])
            self.assertEqual(meta["n_codewords"], framing.n_codewords(len(payloads[seq]), code.k))
            self.assertEqual(list(meta["cw_crc_ok"]), [1] * meta["n_codewords"])
            self.assertEqual(meta["cw_data_bytes"], (code.k - 32) // 8)  # k bits minus a CRC-32
            np.testing.assert_array_equal(data, payloads[seq])

    def test_bytes_in_equal_bytes_out(self):
        """At 30 dB AWGN PDUs of 1 byte, exactly one codeword, one more byte and many
        codewords come out identical, in order, with ldpc_ok, every CRC flag set and
        cw_data_bytes = (k - 32) // 8."""
        rng = np.random.default_rng(0)
        sizes = [1, ONE_CODEWORD, ONE_CODEWORD + 1, 5000]
        payloads = [rng.integers(0, 256, size, dtype=np.uint8) for size in sizes]
        self.assert_delivered(payloads, self.run_link(payloads))

    def test_largest_payload(self):
        """A payload of MAX_PAYLOAD_BYTES (65535) comes out identical."""
        payload = np.random.default_rng(1).integers(0, 256, framing.MAX_PAYLOAD_BYTES, dtype=np.uint8)
        self.assert_delivered([payload], self.run_link([payload]))

    def test_every_registered_code(self):
        """Each registered code (n not always a multiple of 3, small k) carries PDUs intact."""
        rng = np.random.default_rng(5)
        payloads = [rng.integers(0, 256, size, dtype=np.uint8) for size in (1, 100)]
        for name in codes.list_codes():
            with self.subTest(code=name):
                code = codes.get_code(name)
                self.assert_delivered(payloads, self.run_link(payloads, code=code), code)

    def test_repetition_mode_chosen_per_pdu(self):
        """PDUs may pick a repetition mode of phy_tx's code with their "code" metadata: a receiver
        with any_repeat reads every burst with the repetition its header names and reports it in
        "code"; a receiver without it delivers only the plain-code bursts (the others are another
        code's to it)."""
        rng = np.random.default_rng(6)
        payloads = [rng.integers(0, 256, size, dtype=np.uint8) for size in (300, 50, 1000, 7)]
        modes = ["n1800_k902x4", "n1800_k902x2", "n1800_k902x3", "n1800_k902"]
        result = self.run_link(payloads, pdu_codes=modes, any_repeat=True)
        self.assert_delivered(payloads, result)
        self.assertEqual({meta["seq"]: meta["code"] for meta, _ in result}, dict(enumerate(modes)))
        # The plain-code burst is sent last, so when it is out the repeated ones were all read.
        plain = self.run_link(payloads, pdu_codes=modes, expected=1)
        self.assertEqual([meta["seq"] for meta, _ in plain], [3])

    def test_decoder_banks(self):
        """Single decoder, ordinary bank of 3 and capillary bank of 4 deliver every frame,
        including frames whose codeword count is not a multiple of the bank size."""
        rng = np.random.default_rng(2)
        payloads = [rng.integers(0, 256, size, dtype=np.uint8) for size in (1, 300, 700)]
        for threading, n_decoders in ((None, 1), ("ordinary", 3), ("capillary", 4)):
            with self.subTest(threading=threading):
                self.assert_delivered(payloads, self.run_link(payloads, threading=threading, n_decoders=n_decoders))

    def test_rayleigh_high_snr_metadata(self):
        """At 40 dB in block Rayleigh fading, frames arrive intact and snr_est_db (the burst's mean
        power less N0, over N0) equals 10*log10(|h_est|^2 / noise_var_est) within 0.05 dB: on a
        static channel both measure |h|^2, and the power's relative error over ~1000 symbols at
        40 dB is ~sqrt(2e-4 / 1000) ~ 5e-4 (0.002 dB)."""
        rng = np.random.default_rng(3)
        payloads = [rng.integers(0, 256, 200, dtype=np.uint8) for _ in range(4)]
        result = self.run_link(payloads, esno_db=40.0, fading="rayleigh", seed=5)
        for meta, _ in result:
            self.assertAlmostEqual(meta["snr_est_db"],
                                   10 * np.log10(abs(meta["h_est"]) ** 2 / meta["noise_var_est"]), delta=0.05)
        good = [(meta, data) for meta, data in result if meta["ldpc_ok"]]
        self.assertGreaterEqual(len(good), 3)  # a frame may sit in a deep fade (P(|h|^2 < 1e-3) ~ 0.1%)
        for meta, data in good:
            np.testing.assert_array_equal(data, payloads[meta["seq"]])

    def test_noise_and_garbage_stream(self):
        """Noise only, then random 8-PSK-like garbage, then a real burst: no crash, no false
        frame, and the real burst is delivered."""
        tb = gr.top_block()
        rng = np.random.default_rng(4)
        garbage = np.concatenate([
            (rng.standard_normal(20000) + 1j * rng.standard_normal(20000)) * 0.7,
            np.exp(2j * np.pi * rng.integers(0, 8, 20000) / 8),
            np.zeros(500)]).astype(np.complex64)
        tx_tb = gr.top_block()
        tx = phy_tx(code=CODE.name)
        burst_sink = blocks.vector_sink_c()
        probe = blocks.message_debug()
        tx_tb.connect(tx, burst_sink)
        tx_tb.msg_connect(tx, "coded", probe, "store")
        tx_tb.start()
        tx.post_pdu(pdu([1, 2, 3, 4], seq=77))
        wait_for(probe, 1)
        time.sleep(0.1)
        tx_tb.stop()
        tx_tb.wait()
        burst = np.array(burst_sink.data(), dtype=np.complex64)
        self.assertGreater(burst.size, 0)

        source = blocks.vector_source_c(np.concatenate([garbage, burst[:700], burst]).tolist())
        noise = analog.noise_source_c(analog.GR_GAUSSIAN, 0.05, 3)
        add = blocks.add_cc()
        rx = phy_rx(code=CODE.name)
        sink = blocks.message_debug()
        tb.connect(source, (add, 0))
        tb.connect(noise, blocks.head(gr.sizeof_gr_complex, garbage.size + 700 + burst.size), (add, 1))
        tb.connect(add, rx)
        tb.msg_connect(rx, "out", sink, "store")
        tb.start()
        wait_for(sink, 1)
        tb.stop()
        tb.wait()
        result = received(sink)
        self.assertEqual(len(result), 1)
        self.assertEqual(result[0][0]["seq"], 77)
        np.testing.assert_array_equal(result[0][1], [1, 2, 3, 4])
        self.assertEqual(rx.sync.receiver.stats["frames"], 1)

    def test_bad_arguments(self):
        """Bad threading, bank size, iteration count or code raise ValueError."""
        for kwargs in ({"threading": "turbo"}, {"threading": "capillary", "n_decoders": 3},
                       {"threading": "ordinary", "n_decoders": 1}, {"max_iter": 0}, {"code": "x"}):
            with self.subTest(**kwargs), self.assertRaises(ValueError):
                phy_rx(**kwargs)
        for kwargs in ({"fading": "rician"}, {"doppler": -0.1}, {"seed": -1}, {"esno_db": float("nan")}):
            with self.subTest(**kwargs), self.assertRaises(ValueError):
                channel(**kwargs)


if __name__ == "__main__":
    gr_unittest.run(qa_phy_loopback)
