#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""TX burst builder block: encoded codeword PDUs -> one complex burst PDU per frame.

Collects the codewords of a frame (in order, from ``fec.async_encoder``), maps
them to a burst (``burst.build_burst``: preamble, header, interleaved Gray
8-PSK with the pilot blocks the header announces, guard)
and publishes it on ``out`` (c32 PDU for ``pdu_to_tagged_stream``), and the
frame's coded bits on ``coded`` (u8 PDU, metadata ``seq``) for BER counting.
"""

import numpy as np
import pmt
from gnuradio import gr

from . import burst, codes, framing, mapping, pilots, repetition
from .pdu_util import make_pdu, split_pdu


class burst_builder(gr.basic_block):
    """Codeword PDUs (metadata ``frame_header``, ``cw_index``, ``n_cw``) -> burst PDU.

    Args:
        n: coded bits per codeword.
        guard_len: zero symbols appended after each burst.
        repeats: {header code id: times the data block is sent} of the codes
            this builder's frames may announce (``repetition``; None: every
            registered code); a frame announcing another is dropped with a
            logged error.
    """

    def __init__(self, n, guard_len=mapping.DEFAULT_GUARD, repeats=None):
        gr.basic_block.__init__(self, name="uoisc_burst_builder", in_sig=None, out_sig=None)
        if guard_len < 0:
            raise ValueError(f"guard_len {guard_len} must be >= 0")
        self.n = int(n)
        self.guard_len = int(guard_len)
        if repeats is None:
            repeats = codes.repeats_by_id(map(codes.get_code, codes.list_codes()))
        self.repeats = {int(cid): repetition.check_repeat(r) for cid, r in repeats.items()}
        self._codewords = []
        self.logger = gr.logger("uoisc.phy.burst_builder")
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.message_port_register_out(pmt.intern("coded"))
        self.set_msg_handler(pmt.intern("in"), self._handle_codeword)

    def _handle_codeword(self, msg):
        try:
            meta, bits = split_pdu(msg, "u8")
            index, n_cw = int(meta["cw_index"]), int(meta["n_cw"])
            header_bytes = np.asarray(meta["frame_header"], dtype=np.uint8).tobytes()
        except (ValueError, KeyError, TypeError) as err:
            self.logger.error(f"dropped codeword PDU: {err}")
            return
        if bits.size != self.n or index != len(self._codewords):
            self.logger.error(f"dropped frame: codeword {index} of {bits.size} bits out of order "
                              f"(have {len(self._codewords)}, n={self.n})")
            self._codewords = []
            return
        self._codewords.append(bits.astype(np.uint8))
        if len(self._codewords) == n_cw:
            self._publish(header_bytes)

    def _publish(self, header_bytes):
        coded = np.concatenate(self._codewords)
        self._codewords = []
        header = framing.parse_header(header_bytes)
        if header.code_id not in self.repeats:
            self.logger.error(f"dropped frame seq {header.seq}: code id {header.code_id} is not one of "
                              f"{sorted(self.repeats)}")
            return
        # The layout comes from the header itself, so the burst always matches what it announces.
        layout = pilots.PilotParams(header.pilot_interval, header.pilot_len)
        symbols = burst.build_burst(header_bytes, coded, self.n, self.guard_len, layout,
                                    self.repeats[header.code_id])
        meta = {"seq": header.seq, "payload_type": framing.payload_type_name(header.payload_type)}
        self.message_port_pub(pmt.intern("coded"), make_pdu(meta, coded))
        self.message_port_pub(pmt.intern("out"), make_pdu(meta, symbols))
