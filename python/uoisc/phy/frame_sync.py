#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""RX front-end block: complex stream -> LLR stream + one descriptor per frame.

A thin wrapper over :class:`receiver.BurstReceiver`. For every frame it
posts a descriptor on ``frames`` (for the deframer) *before* emitting the
frame's LLRs, so the descriptor always precedes the decoded bits. With a bank
of D decoders (gr-fec capillary/ordinary threading) a frame's codeword count is
padded to a multiple of D with dummy all-zero codewords (LLR -20: strongly
"bit 0", decoded at once) so that no codeword of a frame waits in a bank's
deinterleaver for the next frame; the deframer discards them.
"""

import collections

import numpy as np
import pmt
from gnuradio import gr

from . import codes, framing, pilots, sync
from .demapper import LLR_CLIP
from .pdu_util import make_pdu
from .pilot_estimator import AUTO
from .receiver import BurstReceiver


def frame_descriptor(frame, n_codewords, n_dummy):
    """Metadata dict the deframer needs and passes on (see phy_rx)."""
    header, est = frame.header, frame.estimate
    return {
        "seq": header.seq,
        "payload_type": framing.payload_type_name(header.payload_type),
        "payload_len": header.payload_len,
        "n_codewords": n_codewords,
        "n_dummy": n_dummy,
        "snr_est_db": frame.snr_db,
        "h_est": complex(est.h),
        "noise_var_est": est.noise_var,
        "sample_offset": frame.sample_offset,
        # Which repetition mode carried it: what link adaptation at the transmitter reads back.
        "code": codes.code_name_for_id(header.code_id),
        **({} if frame.doppler is None else {"pilot_doppler": frame.doppler}),
    }


class frame_sync(gr.basic_block):
    """Preamble sync, channel estimation, header decoding and soft demapping.

    Args:
        n: coded bits per codeword.
        k: information bits per codeword.
        code_id: header id of the LDPC code.
        n_decoders: decoders in the bank after this block (codeword padding).
        threshold: preamble detection threshold (normalised correlation, 0..1).
        emit_llr: also publish each frame's LLRs on message port ``llr``.
        pilot_interval, pilot_len: the pilot layout expected in every burst
            (``pilots``; 0, 0 = none); bursts announcing another are dropped.
        pilot_doppler: design Doppler of the pilot filter, or "auto" (see ``receiver``).
        repeat: times the code's data block is sent (``repetition``), combined before demapping.
        other_modes: {header code id: repeat} of the code's other repetition modes
            to read too (see ``receiver.BurstReceiver``).
    """

    def __init__(self, n, k, code_id, n_decoders=1, threshold=sync.DEFAULT_THRESHOLD, emit_llr=False,
                 pilot_interval=0, pilot_len=0, pilot_doppler=AUTO, repeat=1, other_modes=None):
        gr.basic_block.__init__(self, name="uoisc_frame_sync", in_sig=[np.complex64], out_sig=[np.float32])
        if int(n_decoders) < 1:
            raise ValueError(f"n_decoders {n_decoders} must be >= 1")
        self.receiver = BurstReceiver(n, k, code_id, threshold, pilots.PilotParams(int(pilot_interval), int(pilot_len)),
                                      pilot_doppler, repeat, other_modes)
        self.n, self.n_decoders, self.emit_llr = int(n), int(n_decoders), bool(emit_llr)
        self._queue = collections.deque()  # LLR arrays waiting for output space
        self.logger = gr.logger("uoisc.phy.frame_sync")
        self.message_port_register_out(pmt.intern("frames"))
        self.message_port_register_out(pmt.intern("llr"))

    def forecast(self, noutput_items, ninputs):
        # Queued LLRs can be written without new input; otherwise wait for input.
        return [0 if self._queue else 1] * ninputs

    def _enqueue(self, frame):
        n_cw = frame.llr.size // self.n
        n_dummy = -n_cw % self.n_decoders
        meta = frame_descriptor(frame, n_cw, n_dummy)
        self.message_port_pub(pmt.intern("frames"), pmt.to_pmt(meta))
        if self.emit_llr:
            self.message_port_pub(pmt.intern("llr"), make_pdu({"seq": frame.header.seq}, frame.llr))
        self._queue.append(frame.llr)
        if n_dummy:
            self._queue.append(np.full(n_dummy * self.n, -LLR_CLIP, dtype=np.float32))

    def general_work(self, input_items, output_items):
        samples = input_items[0]
        if len(samples):
            try:
                frames = self.receiver.push(samples)
            except (ValueError, np.linalg.LinAlgError) as err:  # never stop a running flowgraph on odd input
                self.logger.error(f"receiver reset after bad input: {err}")
                self.receiver.reset()
                frames = []
            for frame in frames:
                self._enqueue(frame)
            self.consume(0, len(samples))
        out = output_items[0]
        written = 0
        while self._queue and written < len(out):
            head = self._queue[0]
            take = min(head.size, len(out) - written)
            out[written:written + take] = head[:take]
            written += take
            if take == head.size:
                self._queue.popleft()
            else:
                self._queue[0] = head[take:]
        return written
