#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""RX deframer block: decoded bit stream + frame descriptors -> payload PDUs.

Descriptors (from ``frame_sync``, port ``frames``) arrive before their bits;
the bits are those of ``n_codewords + n_dummy`` codewords of k information
bits from the LDPC decoder. Each codeword's CRC-32 is checked; the payload is
published even when some fail, with the verdicts in the metadata.
"""

import collections

import numpy as np
import pmt
from gnuradio import gr

from . import framing
from .pdu_util import make_pdu


class deframer(gr.sync_block):
    """Bits (u8, 0/1) in, payload PDUs out on ``out``.

    Output metadata: the descriptor's ``seq``, ``payload_type``, ``snr_est_db``,
    ``h_est``, ``noise_var_est``, ``sample_offset``, ``n_codewords``, plus
    ``cw_crc_ok`` (u8 vector, 1 per codeword), ``ldpc_ok`` (all passed) and
    ``cw_data_bytes`` (payload bytes per codeword: byte b of the payload lives
    in codeword ``b // cw_data_bytes``, so a receiver can tell which payload
    bytes a failed CRC makes unreliable).

    Args:
        k: information bits per codeword.
    """

    def __init__(self, k):
        gr.sync_block.__init__(self, name="uoisc_deframer", in_sig=[np.uint8], out_sig=None)
        self.cw_data_bytes = framing.data_bytes_per_codeword(k)  # also validates k
        self.k = int(k)
        self._bits = np.zeros(0, dtype=np.uint8)
        self._descriptors = collections.deque()
        self.logger = gr.logger("uoisc.phy.deframer")
        self.message_port_register_in(pmt.intern("frames"))
        self.message_port_register_out(pmt.intern("out"))
        self.set_msg_handler(pmt.intern("frames"), self._handle_descriptor)

    def _handle_descriptor(self, msg):
        meta = pmt.to_python(msg)
        if not isinstance(meta, dict) or not {"n_codewords", "n_dummy", "payload_len", "seq"} <= meta.keys():
            self.logger.error("dropped malformed frame descriptor")
            return
        self._descriptors.append(meta)
        self._flush()

    def _flush(self):
        while self._descriptors:
            meta = self._descriptors[0]
            n_cw = int(meta["n_codewords"])
            need = (n_cw + int(meta["n_dummy"])) * self.k
            if self._bits.size < need:
                return
            info = self._bits[:n_cw * self.k].reshape(n_cw, self.k)
            self._bits = self._bits[need:]
            self._descriptors.popleft()
            self._publish(meta, info)

    def _publish(self, meta, info):
        payload, crc_ok = framing.reassemble(info, int(meta["payload_len"]), int(meta["seq"]))
        out_meta = {key: value for key, value in meta.items() if key not in ("n_dummy", "payload_len")}
        out_meta["cw_crc_ok"] = crc_ok.astype(np.uint8)
        out_meta["ldpc_ok"] = bool(crc_ok.all())
        out_meta["cw_data_bytes"] = self.cw_data_bytes
        if not crc_ok.all():
            self.logger.debug(f"frame seq {meta['seq']}: {int((~crc_ok).sum())}/{crc_ok.size} codewords failed CRC")
        self.message_port_pub(pmt.intern("out"), make_pdu(out_meta, np.frombuffer(payload, dtype=np.uint8)))

    def work(self, input_items, output_items):
        self._bits = np.concatenate([self._bits, input_items[0]])
        self._flush()
        return len(input_items[0])
