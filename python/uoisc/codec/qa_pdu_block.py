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


if __name__ == "__main__":
    gr_unittest.run(qa_pdu_block)
