#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of phy_tx: burst layout with pilots, repeated data of the low-SNR codes, stock LDPC
encoding, refusal of bad PDUs."""

import time

import numpy as np
import pmt
from gnuradio import blocks, gr, gr_unittest

from gnuradio.uoisc.phy import burst as burst_format
from gnuradio.uoisc.phy import codes, framing, interleaver, mapping, phy_tx, pilots

CODE = codes.get_code(codes.DEFAULT_CODE)
TIMEOUT_S = 10.0


def pdu(payload, **meta):
    return pmt.cons(pmt.to_pmt(meta), pmt.to_pmt(np.asarray(payload, dtype=np.uint8)))


PILOTS = pilots.PilotParams(32, 3)


def burst_len(payload_len, guard):
    """Expected burst length, counted independently of ``pilots``: one pilot block after every
    full or partial group of 32 data symbols; the header section's 640 symbols carry 20 blocks of 2."""
    n_data = mapping.payload_symbol_count(framing.n_codewords(payload_len, CODE.k) * CODE.n)
    return mapping.PREAMBLE_LEN + mapping.HEADER_SYMBOLS + 20 * 2 + n_data + 3 * -(-n_data // 32) + guard


class qa_phy_tx(gr_unittest.TestCase):

    def setUp(self):
        self.tb = gr.top_block()
        self.tx = phy_tx(code=CODE.name, guard_len=32, pilot_interval=PILOTS.interval, pilot_len=PILOTS.length)
        self.sink = blocks.vector_sink_c()
        self.coded = blocks.message_debug()
        self.tb.connect(self.tx, self.sink)
        self.tb.msg_connect(self.tx, "coded", self.coded, "store")

    def run_pdus(self, messages, n_expected):
        """Post messages, wait until n_expected coded frames came out."""
        self.tb.start()
        for msg in messages:
            self.tx.post_pdu(msg)
        deadline = time.time() + TIMEOUT_S
        while self.coded.num_messages() < n_expected and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # let the stream catch up with the last coded message
        self.tb.stop()
        self.tb.wait()

    def test_burst_layout_and_stock_encoding(self):
        """Bursts have the documented length, preamble, header (announcing the pilots) and pilot
        blocks; the coded bits are the stock encoder's codewords, whose last k bits are
        framing.segment's info bits."""
        payloads = [np.arange(1, dtype=np.uint8), np.arange(250).astype(np.uint8)]
        self.run_pdus([pdu(p, seq=10 + i, payload_type="vlf") for i, p in enumerate(payloads)], 2)
        stream = np.array(self.sink.data())
        self.assertEqual(stream.size, sum(burst_len(p.size, 32) for p in payloads))
        offset = 0
        for i, payload in enumerate(payloads):
            burst = stream[offset:offset + burst_len(payload.size, 32)]
            offset += burst.size
            header = framing.pack_header(framing.PhyHeader(payload.size, 10 + i, 2, CODE.code_id, 32, 3))
            self.assertFloatTuplesAlmostEqual(burst[:mapping.PREAMBLE_LEN], mapping.PREAMBLE, 5)
            known = mapping.header_symbols(header)
            header_section = burst[mapping.PREAMBLE_LEN:mapping.PREAMBLE_LEN + known.size + 40]
            at = np.arange(known.size)  # header symbol i follows i // 32 header pilot blocks of 2
            self.assertFloatTuplesAlmostEqual(header_section[at + 2 * (at // 32)], known, 5)
            self.assertTrue(np.all(burst[-32:] == 0))
            section = burst[mapping.PREAMBLE_LEN + header_section.size:-32]
            first_block = section[32:35]
            self.assertFloatTuplesAlmostEqual(first_block, pilots.pilot_symbols(1, PILOTS)[0], 5)
            n_blocks = (section.size + 34) // 35  # section = n_data + 3 * ceil(n_data / 32)
            self.assertFloatTuplesAlmostEqual(section[-3:], pilots.pilot_symbols(n_blocks, PILOTS)[-1], 5)
            self.assertAlmostEqual(np.mean(np.abs(burst[:-32]) ** 2), 1.0, 5)
            msg = self.coded.get_message(i)
            self.assertEqual(pmt.to_python(pmt.car(msg))["seq"], 10 + i)
            coded = np.asarray(pmt.to_python(pmt.cdr(msg))).reshape(-1, CODE.n)
            info = framing.segment(payload.tobytes(), 10 + i, CODE.k)
            np.testing.assert_array_equal(coded[:, -CODE.k:], info)

    def test_repeated_code_sends_the_data_block_r_times(self):
        """With a low-SNR code (n1800_k902x3) the burst's data symbols are the plain code's data
        block three times in a row, pilots inserted over the whole, and the length is burst_len's."""
        code = codes.get_code("n1800_k902x3")
        tb, tx, sink = gr.top_block(), phy_tx(code=code.name, guard_len=32, pilot_interval=PILOTS.interval,
                                                pilot_len=PILOTS.length), blocks.vector_sink_c()
        coded = blocks.message_debug()
        tb.connect(tx, sink)
        tb.msg_connect(tx, "coded", coded, "store")
        tb.start()
        tx.post_pdu(pdu(np.arange(200, dtype=np.uint8), seq=1))
        deadline = time.time() + TIMEOUT_S
        while coded.num_messages() < 1 and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        tb.stop()
        tb.wait()
        stream = np.array(sink.data())
        self.assertEqual(stream.size, burst_format.burst_len(200, code.n, code.k, 32, PILOTS, code.repeat))
        n_data = pilots.frame_data_symbols(200, code.n, code.k, code.repeat)
        section = stream[burst_format.KNOWN_LEN:-32]
        data = section[pilots.data_positions(n_data, PILOTS)].reshape(code.repeat, -1)
        for copy in data[1:]:
            self.assertFloatTuplesAlmostEqual(copy, data[0], 6)
        bits = np.asarray(pmt.to_python(pmt.cdr(coded.get_message(0))))
        expected = mapping.map_8psk(interleaver.interleave(bits, code.n))
        self.assertFloatTuplesAlmostEqual(data[0], expected, 5)

    def test_bad_pdus_dropped_flowgraph_keeps_running(self):
        """Garbage (not a pair, f32 payload, empty, oversize, bad type, bad seq, a code that is not
        a repetition mode of this one) is dropped with a logged error; a valid PDU posted
        afterwards still comes out."""
        garbage = [
            pmt.intern("hello"),
            pmt.cons(pmt.make_dict(), pmt.init_f32vector(3, [1, 2, 3])),
            pmt.cons(pmt.PMT_T, pmt.init_u8vector(3, [1, 2, 3])),
            pdu(np.zeros(0)),
            pdu(np.zeros(framing.MAX_PAYLOAD_BYTES + 1)),
            pdu([1, 2], payload_type="mpeg"),
            pdu([1, 2], seq=70000),
            pdu([1, 2], code="n1100_k442"),  # another LDPC code: not a mode of this encoder
            pdu([1, 2], code="fast"),
        ]
        self.run_pdus(garbage + [pdu([7, 8, 9], seq=3)], 1)
        self.assertEqual(self.coded.num_messages(), 1)
        self.assertEqual(pmt.to_python(pmt.car(self.coded.get_message(0)))["seq"], 3)
        self.assertEqual(len(self.sink.data()), burst_len(3, 32))

    def test_bad_arguments(self):
        """Unknown code and negative guard raise ValueError."""
        with self.assertRaises(ValueError):
            phy_tx(code="n7_k3")
        with self.assertRaises(ValueError):
            phy_tx(guard_len=-1)
        with self.assertRaises(ValueError):
            phy_tx(pilot_interval=64, pilot_len=0)
        with self.assertRaises(ValueError):
            phy_tx(pilot_interval=64, pilot_len=16)


if __name__ == "__main__":
    gr_unittest.run(qa_phy_tx)
