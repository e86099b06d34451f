#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""PHY receiver hier block: baseband stream -> payload PDUs with link metadata."""

from gnuradio import fec, gr

from . import codes, pilots, sync
from .deframer import deframer
from .frame_sync import frame_sync
from .pilot_estimator import AUTO, parse_doppler

THREADING_MODES = ("capillary", "ordinary", None)
#: ``fec.ldpc_decoder`` computes exp(x / (2 sigma^2)); sigma^2 = 0.5 makes x a natural LLR.
DECODER_SIGMA = 0.5 ** 0.5


def check_decoder_bank(threading, n_decoders):
    """Validate the decoder bank choice; returns the number of decoders to build."""
    if threading not in THREADING_MODES:
        raise ValueError(f"threading {threading!r} not in {THREADING_MODES}")
    n_decoders = int(n_decoders)
    if threading is None:
        return 1
    if n_decoders < 2:
        raise ValueError(f"n_decoders {n_decoders} must be >= 2 with threading {threading!r}")
    if threading == "capillary" and n_decoders & (n_decoders - 1):
        raise ValueError(f"capillary threading needs a power of 2 decoders, got {n_decoders}")
    return n_decoders


class phy_rx(gr.hier_block2):
    """Complex baseband in (1 sample/symbol), payload PDUs out on ``out``.

    Chain: frame_sync (preamble correlation, LS h/N0 on preamble + header,
    header CRC, gains interpolated between pilot blocks, max-log LLRs) -> stock ``fec.extended_decoder`` over
    ``fec.ldpc_decoder.make(alist, sigma, max_iter)`` (one or a bank) ->
    deframer (CRC-32 per codeword, reassembly).

    ``out`` metadata: ``seq``, ``payload_type``, ``snr_est_db``, ``h_est``
    (complex), ``noise_var_est``, ``pilot_doppler`` (design Doppler of the pilot filter, with pilots), ``cw_crc_ok`` (u8 vector), ``ldpc_ok``
    (bool), ``n_codewords``, ``sample_offset``, ``code`` (the code the burst's
    header named: this block's, or one of its repetition modes with
    ``any_repeat``), ``cw_data_bytes`` (payload
    bytes per codeword: byte b lives in codeword ``b // cw_data_bytes``). ``llr`` (only with
    ``emit_llr``): per frame the f32 LLRs of the coded bits, positive = 1, in
    the order of phy_tx's ``coded`` port.

    Args:
        code: LDPC code name (``codes.list_codes()``; ``<code>x<r>``: the
            low-SNR modes, r copies of the data combined before demapping).
        threading: "capillary", "ordinary" (gr-fec decoder banks) or None.
        n_decoders: decoders in the bank (power of 2 for capillary).
        max_iter: belief-propagation iterations (the decoder stops early on
            a valid codeword).
        threshold: preamble detection threshold (normalised correlation).
        emit_llr: publish LLRs on ``llr``.
        pilot_interval: data symbols between pilot blocks; must match the
            transmitter's (the header announces it; a burst with another layout
            is dropped with a logged warning). 0 with pilot_len 0: no pilots.
        pilot_len: known symbols per pilot block (1..15).
        pilot_doppler: "auto" (default): the pilot filter is designed per burst
            for the Doppler estimated from its pilot gains (follows flat fading
            up to the pilots' Nyquist limit, 1 / (2 (pilot_interval + pilot_len))
            = 1.47e-2 by default, with little noise on slow channels); or a
            number, the fastest normalised gain variation fD*Ts the filter
            follows: 1e-2 behind the air modem, whose Costas loop can slip by
            45 degrees, a step that the estimate does not see (docs/phy.md).
        any_repeat: also read bursts in the code's other repetition modes (e.g.
            n1800_k902 and n1800_k902x2..x4: ``codes.repetition_modes``), each as
            its header announces, with the same decoder bank. False: those
            bursts are dropped as another code's.
    """

    def __init__(self, code=codes.DEFAULT_CODE, threading="capillary", n_decoders=2, max_iter=50,
                 threshold=sync.DEFAULT_THRESHOLD, emit_llr=False, pilot_interval=pilots.DEFAULT_INTERVAL,
                 pilot_len=pilots.DEFAULT_LENGTH, pilot_doppler=AUTO, any_repeat=False):
        gr.hier_block2.__init__(self, "uoisc_phy_rx", gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(0, 0, 0))
        if int(max_iter) < 1:
            raise ValueError(f"max_iter {max_iter} must be >= 1")
        self.code = codes.get_code(code)
        n_decoders = check_decoder_bank(threading, n_decoders)
        self.pilot_params = pilots.PilotParams(int(pilot_interval), int(pilot_len))
        self.sync = frame_sync(self.code.n, self.code.k, self.code.code_id, n_decoders, threshold, emit_llr,
                               self.pilot_params.interval, self.pilot_params.length, parse_doppler(pilot_doppler),
                               self.code.repeat, self._other_modes(any_repeat))
        decoders = [fec.ldpc_decoder.make(self.code.alist, DECODER_SIGMA, int(max_iter))
                    for _ in range(n_decoders)]
        self.decoder = fec.extended_decoder(decoder_obj_list=decoders, threading=threading)
        self.deframer = deframer(self.code.k)

        self.message_port_register_hier_out("out")
        self.message_port_register_hier_out("llr")
        self.connect(self, self.sync, self.decoder, self.deframer)
        self.msg_connect(self.sync, "frames", self.deframer, "frames")
        self.msg_connect(self.deframer, "out", self, "out")
        self.msg_connect(self.sync, "llr", self, "llr")

    def _other_modes(self, any_repeat):
        """{header code id: repeat} of the code's other repetition modes, if they are read too."""
        if not any_repeat:
            return {}
        modes = codes.repetition_modes(self.code.name).values()
        return codes.repeats_by_id(mode for mode in modes if mode.code_id != self.code.code_id)
