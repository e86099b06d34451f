#!/usr/bin/env python3
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr_unittest of pdu_block: any exception in a handler is a counted, logged drop."""

import pmt
from gnuradio import gr_unittest

from gnuradio.uoisc.codec.pdu_block import pdu_block
from gnuradio.uoisc.codec.pdu_runner import pdu_runner


class fragile(pdu_block):
    """Echoes integers; a symbol "bad" raises ValueError, "bug" raises RuntimeError."""

    def __init__(self):
        pdu_block.__init__(self, "fragile")

    def transform(self, msg):
        if pmt.is_symbol(msg):
            errors = {"bad": ValueError, "bug": RuntimeError}
            raise errors[pmt.symbol_to_string(msg)]("injected")
        return msg


class splitter(pdu_block):
    """Publishes an integer on "even" and its double on "twice"; a symbol "bad" raises
    ValueError, and "short" returns one PDU for the two ports (a bug of the subclass)."""

    OUT_PORTS = ("even", "twice")

    def __init__(self):
        pdu_block.__init__(self, "splitter")

    def transform(self, msg):
        if pmt.is_symbol(msg):
            if pmt.symbol_to_string(msg) == "short":
                return (msg,)
            raise ValueError("injected")
        return msg, pmt.from_long(2 * pmt.to_long(msg))


class qa_pdu_block(gr_unittest.TestCase):

    def test_exceptions_are_drops(self):
        """A ValueError and an unexpected RuntimeError (which would otherwise kill the block's
        thread and freeze the flowgraph) each drop one message; the messages around them come
        out in order and n_in == n_out + n_dropped."""
        block = fragile()
        runner = pdu_runner(block)
        try:
            outputs = runner.run([pmt.from_long(1), pmt.intern("bad"), pmt.intern("bug"), pmt.from_long(2)])
        finally:
            runner.close()
        self.assertEqual([pmt.to_long(msg) for msg in outputs], [1, 2])
        self.assertEqual((block.n_in, block.n_out, block.n_dropped), (4, 2, 2))

    def test_several_ports_publish_together_or_not_at_all(self):
        """With OUT_PORTS ("even", "twice") every accepted message gives one PDU on each port, in
        the same order; a ValueError and a transform that returns too few PDUs publish nothing
        on either port and count as drops."""
        block = splitter()
        runner = pdu_runner(block)
        try:
            outputs = runner.run_ports([pmt.from_long(1), pmt.intern("bad"), pmt.intern("short"),
                                        pmt.from_long(3)])
        finally:
            runner.close()
        self.assertEqual({port: [pmt.to_long(m) for m in msgs] for port, msgs in outputs.items()},
                         {"even": [1, 3], "twice": [2, 6]})
        self.assertEqual((block.n_in, block.n_out, block.n_dropped), (4, 2, 2))


if __name__ == "__main__":
    gr_unittest.run(qa_pdu_block)
