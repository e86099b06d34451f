#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Drive one codec block inside a running flowgraph: post PDUs, collect its outputs.

For qa tests and benchmarks: the block runs in its own GNU Radio thread, as in a
real flowgraph, and its counters (``n_in``, ``n_out``) tell when every posted
PDU has been handled, so dropped PDUs need no timeout to be noticed.
"""

import time

import pmt
from gnuradio import blocks, gr

DEFAULT_TIMEOUT_S = 30.0
_POLL_S = 0.005


class pdu_runner:
    """A started top block holding ``block`` and a ``message_debug`` on its output.

    Args:
        block: a :class:`~gnuradio.uoisc.codec.pdu_block.pdu_block` (ports "in"/"out").
    """

    def __init__(self, block):
        self.block = block
        self.sink = blocks.message_debug()
        self.tb = gr.top_block()
        self.tb.msg_connect(block, "out", self.sink, "store")
        self.tb.start()

    def run(self, messages, timeout=DEFAULT_TIMEOUT_S):
        """Post ``messages`` to "in", wait until all are handled, return the new outputs.

        Raises:
            TimeoutError: the block did not handle every message within ``timeout`` s.
        """
        first_in, first_out, first_stored = self.block.n_in, self.block.n_out, self.sink.num_messages()
        for msg in messages:
            self.block._post(pmt.intern("in"), msg)
        deadline = time.monotonic() + timeout
        # Handled by the block, then stored by message_debug (its own thread).
        while (self.block.n_in < first_in + len(messages)
               or self.sink.num_messages() < first_stored + self.block.n_out - first_out):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.block.n_in - first_in}/{len(messages)} PDUs handled "
                                   f"after {timeout} s")
            time.sleep(_POLL_S)
        return [self.sink.get_message(i) for i in range(first_stored, self.sink.num_messages())]

    def close(self):
        """Stop the flowgraph."""
        self.tb.stop()
        self.tb.wait()
