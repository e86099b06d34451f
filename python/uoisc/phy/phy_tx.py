#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""PHY transmitter hier block: payload PDUs -> LDPC + Gray 8-PSK burst stream."""

import pmt
from gnuradio import fec, gr, pdu

from . import burst, codes, framing, mapping, pilots
from .burst_builder import burst_builder
from .framer import framer


def max_burst_len(code, guard_len, pilot_params=pilots.PilotParams(), repeat=1):
    """Symbols of the burst of a payload of MAX_PAYLOAD_BYTES with this code and pilot layout,
    its data sent ``repeat`` times."""
    return burst.burst_len(framing.MAX_PAYLOAD_BYTES, code.n, code.k, guard_len, pilot_params, repeat)


class phy_tx(gr.hier_block2):
    """Payload PDUs in, complex baseband bursts out (1 sample per symbol, Es = 1).

    Chain: framer (PL header, CRC-32 per codeword) -> stock
    ``fec.async_encoder(fec.ldpc_encoder_make(alist))``, one codeword per PDU ->
    burst builder (preamble, repeated BPSK header, Gray 8-PSK data with
    ``pilot_len`` known symbols after every ``pilot_interval`` data symbols,
    guard of zeros)
    -> ``pdu.pdu_to_tagged_stream`` (tag ``packet_len``).

    Message ports: ``in`` (PDU: metadata dict with ``payload_type`` in
    {"semantic", "jpeg2000", "vlf"} or 0..255, optional ``seq``, optional
    ``code``: a repetition mode of this block's code, e.g. "n1800_k902x4",
    to send this PDU more robustly (link adaptation per burst; the header
    tells the receiver); payload u8 vector, 1..65535 bytes) and ``coded``
    (per frame, the u8 coded bits, metadata ``seq``).

    From Python, inject PDUs with :meth:`post_pdu` (a hier block's own message
    port cannot be ``_post``-ed to). Keep a reference to the block while the
    flowgraph runs: it contains Python blocks.

    Args:
        code: LDPC code name (``codes.list_codes()``; ``<code>x<r>``: the
            low-SNR modes, the data symbols sent r times).
        guard_len: zero symbols after each burst.
        pilot_interval: data symbols between pilot blocks (1..4095), or 0
            together with pilot_len 0 for no pilots (static channels only).
        pilot_len: known symbols per pilot block (1..15). The header announces
            both; the receiver must be configured alike (see docs/phy.md).
    """

    def __init__(self, code=codes.DEFAULT_CODE, guard_len=mapping.DEFAULT_GUARD,
                 pilot_interval=pilots.DEFAULT_INTERVAL, pilot_len=pilots.DEFAULT_LENGTH):
        gr.hier_block2.__init__(self, "uoisc_phy_tx", gr.io_signature(0, 0, 0),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        self.code = codes.get_code(code)
        self.pilot_params = pilots.PilotParams(int(pilot_interval), int(pilot_len))
        modes = codes.repetition_modes(self.code.name)
        self.framer = framer(self.code.k, self.code.code_id, self.pilot_params,
                             {name: mode.code_id for name, mode in modes.items()})
        self.encoder = fec.async_encoder(fec.ldpc_encoder_make(self.code.alist), False, False, False,
                                         max(1500, self.code.n))
        repeats = codes.repeats_by_id(modes.values())
        self.builder = burst_builder(self.code.n, guard_len, repeats)
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, "packet_len")
        # pdu_to_tagged_stream writes a burst in one go: its buffer must hold the largest
        # (GNU Radio needs more than exactly one burst of room; twice is safe).
        # A PDU may pick any repetition mode (metadata "code"): room for the most repeated one.
        self.to_stream.set_min_output_buffer(
            2 * max_burst_len(self.code, guard_len, self.pilot_params, max(repeats.values())))

        self.message_port_register_hier_in("in")
        self.message_port_register_hier_out("coded")
        self.msg_connect(self, "in", self.framer, "in")
        self.msg_connect(self.framer, "out", self.encoder, "in")
        self.msg_connect(self.encoder, "out", self.builder, "in")
        self.msg_connect(self.builder, "out", self.to_stream, "pdus")
        self.msg_connect(self.builder, "coded", self, "coded")
        self.connect(self.to_stream, self)

    def post_pdu(self, msg):
        """Inject a PDU from Python while running (``_post`` does not reach a hier block's port)."""
        self.framer._post(pmt.intern("in"), msg)
