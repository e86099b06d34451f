#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Base of the codec blocks: one PDU in on ``in``, at most one PDU out on ``out``."""

import pmt
from gnuradio import gr


class pdu_block(gr.basic_block):
    """Message block that maps each input PDU to one output PDU, or drops it.

    Subclasses implement :meth:`transform`. A ``ValueError`` from it (bad PDU,
    frame of another model, ...) is a logged drop. Any other exception is
    logged too, as an internal error: an exception escaping a message handler
    kills the block's thread and freezes the whole flowgraph, which is worse
    than losing one image.

    Counters (read by tests and soak runs so every image is accounted for):
    ``n_in``, ``n_out``, ``n_dropped``; ``n_in == n_out + n_dropped`` once a
    message has been handled.

    Args:
        name: block name, also the logger name ("uoisc.codec.<name>").
    """

    def __init__(self, name):
        gr.basic_block.__init__(self, name=f"uoisc_{name}", in_sig=None, out_sig=None)
        self.logger = gr.logger(f"uoisc.codec.{name}")
        self.n_in = 0
        self.n_out = 0
        self.n_dropped = 0
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle)

    def transform(self, msg):
        """Output PDU for one input PDU; raise ValueError to drop it."""
        raise NotImplementedError

    def _handle(self, msg):
        try:
            out = self.transform(msg)
        except ValueError as error:
            self._drop(f"dropped PDU: {error}")
        except Exception as error:  # noqa: BLE001 - see the class docstring
            self._drop(f"dropped PDU after an internal error: {type(error).__name__}: {error}")
        else:
            self.message_port_pub(pmt.intern("out"), out)
            self.n_out += 1
        finally:
            # Counted last, so n_in == n_out + n_dropped whenever a reader sees n_in move.
            self.n_in += 1

    def _drop(self, reason):
        self.n_dropped += 1
        self.logger.error(reason)
