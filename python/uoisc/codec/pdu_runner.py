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
    """A started top block holding ``block`` and a ``message_debug`` on each output port.

    Args:
        block: a :class:`~gnuradio.uoisc.codec.pdu_block.pdu_block` (port "in", output
            ports ``block.OUT_PORTS``).
    """

    def __init__(self, block):
        self.block = block
        self.ports = tuple(block.OUT_PORTS)
        self.sinks = {port: blocks.message_debug() for port in self.ports}
        self.sink = self.sinks[self.ports[0]]
        self.tb = gr.top_block()
        for port, sink in self.sinks.items():
            self.tb.msg_connect(block, port, sink, "store")
        self.tb.start()

    def run(self, messages, timeout=DEFAULT_TIMEOUT_S):
        """Post ``messages`` to "in", wait until all are handled, return the new outputs of
        the first output port (see :meth:`run_ports` for all of them).

        Raises:
            TimeoutError: the block did not handle every message within ``timeout`` s.
        """
        return self.run_ports(messages, timeout)[self.ports[0]]

    def run_ports(self, messages, timeout=DEFAULT_TIMEOUT_S):
        """Post ``messages`` to "in", wait until all are handled; returns {port: new outputs}.

        Raises:
            TimeoutError: the block did not handle every message within ``timeout`` s.
        """
        first_in, first_out = self.block.n_in, self.block.n_out
        first_stored = {port: sink.num_messages() for port, sink in self.sinks.items()}
        for msg in messages:
            self.block._post(pmt.intern("in"), msg)
        deadline = time.monotonic() + timeout

        def pending():
            # Handled by the block, then stored by each message_debug (their own threads).
            published = self.block.n_out - first_out
            return (self.block.n_in < first_in + len(messages)
                    or any(sink.num_messages() < first_stored[port] + published
                           for port, sink in self.sinks.items()))

        while pending():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.block.n_in - first_in}/{len(messages)} PDUs handled "
                                   f"after {timeout} s")
            time.sleep(_POLL_S)
        return {port: [sink.get_message(i) for i in range(first_stored[port], sink.num_messages())]
                for port, sink in self.sinks.items()}

    def close(self):
        """Stop the flowgraph."""
        self.tb.stop()
        self.tb.wait()
