#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""TX framer block: payload PDU -> one PDU of information bits per codeword.

Each output PDU holds the k information bits of one codeword (u8, one bit per
byte) for the stock ``fec.async_encoder``; its metadata carries the frame's
8-byte PL header, the codeword index and the codeword count so the burst
builder after the encoder can put the frame back together (gr-fec's async
encoder keeps the metadata).
"""

import numpy as np
import pmt
from gnuradio import gr

from . import framing, pilots
from .pdu_util import make_pdu, split_pdu


class framer(gr.basic_block):
    """Payload PDU (u8 bytes, metadata ``payload_type``, optional ``seq``, optional ``code``)
    -> codeword PDUs.

    Args:
        k: information bits per codeword of the LDPC code.
        code_id: header id of the code (see ``codes``).
        pilot_params: ``pilots.PilotParams`` announced in every header.
        modes: {code name: header id} a PDU may pick with its ``code`` metadata
            (the repetition modes of the same LDPC code, ``codes.repetition_modes``);
            without ``code`` a PDU goes out as ``code_id``.

    Bad PDUs (not u8, empty, too big, bad metadata, a ``code`` not in ``modes``)
    are dropped with a logged error.
    """

    def __init__(self, k, code_id, pilot_params=pilots.PilotParams(), modes=None):
        gr.basic_block.__init__(self, name="uoisc_framer", in_sig=None, out_sig=None)
        framing.data_bytes_per_codeword(k)  # validates k
        self.pilot_params = pilot_params
        self.k = int(k)
        self.code_id = int(code_id)
        self.modes = dict(modes or {})
        self._next_seq = 0
        self.logger = gr.logger("uoisc.phy.framer")
        self.message_port_register_in(pmt.intern("in"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("in"), self._handle_pdu)

    def _frame_fields(self, meta, payload):
        """Header and seq of a PDU, or ValueError explaining why it is refused."""
        if payload.size == 0:
            raise ValueError("empty payload")
        if payload.size > framing.MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload of {payload.size} bytes exceeds the maximum {framing.MAX_PAYLOAD_BYTES}")
        payload_type = framing.payload_type_code(meta.get("payload_type", "semantic"))
        seq = meta.get("seq", self._next_seq)
        if not isinstance(seq, (int, np.integer)) or isinstance(seq, bool) or not 0 <= seq <= 0xFFFF:
            raise ValueError(f"seq {seq!r} is not an int in 0..65535")
        code_id = self.code_id
        if "code" in meta:
            if meta["code"] not in self.modes:
                raise ValueError(f"code {meta['code']!r} is not one this encoder sends; choose one of "
                                 f"{sorted(self.modes)}")
            code_id = self.modes[meta["code"]]
        return framing.PhyHeader(int(payload.size), int(seq), payload_type, code_id,
                                 self.pilot_params.interval, self.pilot_params.length)

    def _handle_pdu(self, msg):
        try:
            meta, payload = split_pdu(msg, "u8")
            header = self._frame_fields(meta, payload)
        except ValueError as err:
            self.logger.error(f"dropped TX PDU: {err}")
            return
        self._next_seq = (header.seq + 1) & 0xFFFF
        header_bytes = np.frombuffer(framing.pack_header(header), dtype=np.uint8)
        info_bits = framing.segment(payload.astype(np.uint8).tobytes(), header.seq, self.k)
        for index, bits in enumerate(info_bits):
            cw_meta = {"frame_header": header_bytes, "cw_index": index, "n_cw": len(info_bits)}
            self.message_port_pub(pmt.intern("out"), make_pdu(cw_meta, bits))
