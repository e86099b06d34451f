#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Base of the codec blocks: one PDU in on ``in``, at most one PDU out on each output port."""

import pmt
from gnuradio import gr


class pdu_block(gr.basic_block):
    """Message block that maps each input PDU to one output PDU per output port, or drops it.

    Subclasses implement :meth:`transform`. A ``ValueError`` from it (bad PDU,
    frame of another model, ...) is a logged drop. Any other exception is
    logged too, as an internal error: an exception escaping a message handler
    kills the block's thread and freezes the whole flowgraph, which is worse
    than losing one image.

    Output ports are named by the class attribute :attr:`OUT_PORTS` (``("out",)``
    by default). With one port, ``transform`` returns one PDU; with several, a
    tuple of PDUs in port order, published together only once all are built,
    so the ports stay matched PDU for PDU (a drop publishes nothing).

    Counters (read by tests and soak runs so every image is accounted for):
    ``n_in``, ``n_out`` (inputs that were published), ``n_dropped``;
    ``n_in == n_out + n_dropped`` once a message has been handled.

    Args:
        name: block name, also the logger name ("uoisc.codec.<name>").
    """

    #: Names of the output message ports, in the order ``transform`` returns their PDUs.
    OUT_PORTS = ("out",)

    def __init__(self, name):
        gr.basic_block.__init__(self, name=f"uoisc_{name}", in_sig=None, out_sig=None)
        self.logger = gr.logger(f"uoisc.codec.{name}")
        self.n_in = 0
        self.n_out = 0
        self.n_dropped = 0
        self.message_port_register_in(pmt.intern("in"))
        for port in self.OUT_PORTS:
            self.message_port_register_out(pmt.intern(port))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def transform(self, msg):
        """Output PDU (a tuple of them with several OUT_PORTS) for one input PDU; raise
        ValueError to drop it."""
        raise NotImplementedError

    def _handle(self, msg):
        try:
            out = self.transform(msg)
            outputs = (out,) if len(self.OUT_PORTS) == 1 else tuple(out)
            if len(outputs) != len(self.OUT_PORTS):
                raise RuntimeError(f"transform gave {len(outputs)} PDUs for ports {self.OUT_PORTS}")
        except ValueError as error:
            self._drop(f"dropped PDU: {error}")
        except Exception as error:  # noqa: BLE001 - see the class docstring
            self._drop(f"dropped PDU after an internal error: {type(error).__name__}: {error}")
        else:
            for port, pdu in zip(self.OUT_PORTS, outputs):
                self.message_port_pub(pmt.intern(port), pdu)
            self.n_out += 1
        finally:
            # Counted last, so n_in == n_out + n_dropped whenever a reader sees n_in move.
            self.n_in += 1

    def _drop(self, reason):
        self.n_dropped += 1
        self.logger.error(reason)
