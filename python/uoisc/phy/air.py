#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""RRC air modem: what phy_tx/phy_rx need to cross a real radio link.

``phy_tx`` emits 1 sample per symbol and ``phy_rx`` expects 1 sample per symbol
with at most a constant complex gain per frame (its preamble least-squares
estimate removes it). Over the air the receiver also sees an unknown carrier
frequency offset, an unknown sampling phase and a clock-rate error, so:

- ``air_modulator``: symbols -> root-raised-cosine pulses at ``sps`` samples per
  symbol (stock ``interp_fir_filter_ccf``), average sample power amplitude^2.
- ``air_demodulator``: samples -> AGC -> band-edge FLL (coarse frequency) ->
  polyphase matched-filter symbol sync (timing) -> 8th-order Costas loop
  (carrier phase) -> 1 sample per symbol.

The Costas loop of an 8-PSK signal locks at one of 8 phases; the demodulator
leaves that 8-fold ambiguity (and the AGC's residual gain) to ``phy_rx``'s
per-frame estimate of h from the known preamble, which is exactly a complex
gain.

Keeping the loops fed: ``phy_tx`` separates frames with guards of exact zeros.
Silence lets every loop drift (the AGC even pumps the noise up), so by default
the modulator replaces guard symbols (exact zeros) with a fixed pseudo-random
QPSK *filler* sequence taken from the 8-PSK alphabet: the receiver sees a
continuous signal and its loops stay locked from one frame to the next. To
``phy_rx`` the filler is just data-like symbols between frames, which its
preamble correlation ignores. Gaps where the transmitter sends nothing at all
(a USRP between bursts) cannot be filled this way: pace the PDU source so the
stream stays continuous, or accept re-acquisition on every burst.

Es/N0 over the air (``noise_voltage_for_esno``): with average sample power A^2
(A = the modulator's ``amplitude``) a symbol carries Es = sps * A^2; white noise
of variance sigma^2 per complex sample has N0 = sigma^2, so
Es/N0 = sps * A^2 / sigma^2.

Operating range (measured with ``channels.channel_model``, see qa_air.py and
docs/phy-air-and-tools.md): the loops acquire within about 1000-1500 symbols
and then hold lock at Es/N0 >= ~15 dB with offsets up to 0.01 cycles/sample and
100 ppm of clock error (frame error rate 0.1 at 14 dB, 0.55 at 13 dB). Below
that the 8th-order Costas loop, whose phase detector works on hard decisions,
slips; a slip inside a frame breaks that frame, since phy_rx estimates h once
per frame. The coded link itself works down to ~5 dB: pilots inside frames
would be needed to bring the air path there.
"""

import numpy as np
from gnuradio import analog, blocks, digital, filter, gr
from gnuradio.filter import firdes

#: Symbols spanned by the root-raised-cosine pulse (both sides together).
RRC_SPAN_SYMBOLS = 11
#: Length of the cyclic guard-filler sequence (symbols).
FILLER_LEN = 1021
#: Seed of the filler sequence; fixed so the filler is the same in every run.
FILLER_SEED = 0x0A1


def check_air_params(sps, rolloff):
    """Validate the parameters shared by modulator and demodulator.

    Args:
        sps: samples per symbol, an integer >= 2.
        rolloff: RRC excess bandwidth, in (0, 1].

    Raises:
        ValueError: naming the bad value.
    """
    if int(sps) != sps or sps < 2:
        raise ValueError(f"sps must be an integer >= 2, got {sps!r}")
    if not 0.0 < rolloff <= 1.0:
        raise ValueError(f"rolloff must be in (0, 1], got {rolloff!r}")


def rrc_taps(sps, rolloff, n_filters=1, span_symbols=RRC_SPAN_SYMBOLS):
    """Root-raised-cosine taps scaled for an interpolator or a polyphase bank.

    The taps are scaled so that interpolating unit-energy symbols by ``sps``
    gives unit average sample power (sum of squared taps = ``sps`` per
    polyphase arm).

    Args:
        sps: samples per symbol (integer >= 2).
        rolloff: excess bandwidth in (0, 1].
        n_filters: number of polyphase arms (1 for a plain interpolator).
        span_symbols: pulse length in symbols.

    Returns:
        float64 numpy array of ``span_symbols * sps * n_filters`` (+1 if even) taps.
    """
    check_air_params(sps, rolloff)
    if int(n_filters) != n_filters or n_filters < 1:
        raise ValueError(f"n_filters must be a positive integer, got {n_filters!r}")
    ntaps = span_symbols * sps * n_filters
    ntaps += 1 - ntaps % 2  # odd length: a symmetric pulse with a centre tap
    rate = float(sps * n_filters)
    taps = np.asarray(firdes.root_raised_cosine(1.0, rate, 1.0, rolloff, ntaps))
    return taps * np.sqrt(sps * n_filters / np.sum(taps**2))


def noise_voltage_for_esno(esno_db, sps, amplitude=1.0):
    """Noise standard deviation per complex sample giving ``esno_db`` at ``sps``.

    Args:
        esno_db: wanted Es/N0 in dB.
        sps: samples per symbol.
        amplitude: the modulator's ``amplitude`` (average sample power is its square).

    Es = sps * amplitude^2 and N0 = sigma^2 (see the module docstring).
    """
    check_air_params(sps, 0.35)
    return float(amplitude * np.sqrt(sps / 10.0 ** (esno_db / 10.0)))


def filler_symbols(length=FILLER_LEN, seed=FILLER_SEED):
    """The fixed pseudo-random QPSK filler, unit magnitude.

    Its points (pi/8 + k*pi/2) belong to GNU Radio's 8-PSK alphabet (odd
    multiples of pi/8), so the 8th-order Costas loop sees no phase error on them.
    """
    rng = np.random.default_rng(seed)
    quadrant = rng.integers(0, 4, size=length)
    return np.exp(1j * (np.pi / 8 + np.pi / 2 * quadrant)).astype(np.complex64)


def fill_guard_symbols(symbols, start_index, filler):
    """Replace exact-zero symbols by the filler sequence, indexed by position.

    Args:
        symbols: complex array of symbols (a chunk of a longer stream).
        start_index: absolute stream index of ``symbols[0]`` so the filler is
            continuous across chunks.
        filler: the cyclic filler sequence.

    Returns:
        A new complex64 array.
    """
    symbols = np.asarray(symbols, dtype=np.complex64)
    guard = symbols == 0
    out = symbols.copy()
    if guard.any():
        index = (start_index + np.flatnonzero(guard)) % len(filler)
        out[guard] = filler[index]
    return out


def resolve_phase_ambiguity(received, reference, order=8):
    """Align ``received`` with a known ``reference`` in time and in phase.

    Finds the lag of ``reference`` inside ``received`` by cross-correlation,
    then the rotation by a multiple of 2*pi/order that best matches it. Used to
    score the air modem alone, without ``phy_rx``'s preamble estimate.

    Args:
        received: complex symbols out of the demodulator (1 sample/symbol).
        reference: the transmitted symbols; must be shorter than ``received``.
        order: size of the rotational ambiguity (8 for 8-PSK).

    Returns:
        (aligned, lag): ``received[lag:lag+len(reference)]`` rotated by the
        best multiple of 2*pi/order, and the lag.
    """
    received = np.asarray(received, dtype=np.complex128)
    reference = np.asarray(reference, dtype=np.complex128)
    if len(received) < len(reference):
        raise ValueError(
            f"received ({len(received)} symbols) shorter than reference ({len(reference)})")
    # The demodulator's delay is unknown: find it on the known symbols.
    corr = np.abs(np.correlate(received, reference, mode="valid"))
    lag = int(np.argmax(corr))
    segment = received[lag:lag + len(reference)]
    angle = np.angle(np.vdot(reference, segment))
    step = 2 * np.pi / order
    rotation = np.exp(-1j * step * np.round(angle / step))
    return segment * rotation, lag


class guard_filler(gr.basic_block):
    """Lead-in of filler symbols, then the input with zero guards filled.

    Outputs ``lead_in`` filler symbols before the first input symbol so the
    receiver's loops lock before the first frame, then copies the input,
    replacing exact zeros by the filler when ``fill`` is set. Tags move with
    their samples (offset + lead_in).
    """

    def __init__(self, lead_in=0, fill=True):
        gr.basic_block.__init__(self, name="uoisc_guard_filler",
                                in_sig=[np.complex64], out_sig=[np.complex64])
        if int(lead_in) != lead_in or lead_in < 0:
            raise ValueError(f"lead_in must be a non-negative integer, got {lead_in!r}")
        self._filler = filler_symbols()
        self._lead_in = int(lead_in)
        self._lead_in_left = int(lead_in)
        self._fill = bool(fill)
        # Tags are re-added by hand, shifted by the lead-in.
        self.set_tag_propagation_policy(gr.TPP_DONT)

    def general_work(self, input_items, output_items):
        out = output_items[0]
        if self._lead_in_left:
            n = min(self._lead_in_left, len(out))
            index = (self.nitems_written(0) + np.arange(n)) % len(self._filler)
            out[:n] = self._filler[index]
            self._lead_in_left -= n
            return n
        n = min(len(input_items[0]), len(out))
        chunk = input_items[0][:n]
        out[:n] = fill_guard_symbols(chunk, self.nitems_written(0), self._filler) if self._fill else chunk
        for tag in self.get_tags_in_window(0, 0, n):
            self.add_item_tag(0, tag.offset + self._lead_in, tag.key, tag.value, tag.srcid)
        self.consume(0, n)
        return n


class air_modulator(gr.hier_block2):
    """Symbols (1 sample/symbol) -> RRC pulse-shaped samples for a radio.

    Args:
        sps: samples per symbol (integer >= 2).
        rolloff: RRC excess bandwidth in (0, 1].
        fill_guards: replace phy_tx's zero guard symbols by a known QPSK filler
            so that the receiver's loops stay locked between frames.
        lead_in: filler symbols sent before the first frame so the receiver's
            loops have locked when it arrives (acquisition takes ~1500).
        len_tag_key: name of a packet-length tag on the input ("" for none);
            its value is multiplied by ``sps`` so a ``uhd.usrp_sink`` in burst
            mode sees the right burst lengths.
        amplitude: peak-safe scale of the output (the USRP wants |x| < 1; RRC
            8-PSK at unit power peaks near 1.6).
    """

    def __init__(self, sps=4, rolloff=0.35, fill_guards=True, lead_in=2048, len_tag_key="",
                 amplitude=0.5):
        gr.hier_block2.__init__(self, "uoisc_air_modulator",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        check_air_params(sps, rolloff)
        if not amplitude > 0:
            raise ValueError(f"amplitude must be > 0, got {amplitude!r}")
        self.sps = int(sps)
        self.amplitude = float(amplitude)
        taps = rrc_taps(self.sps, rolloff) * amplitude
        self.pulse_shaper = filter.interp_fir_filter_ccf(self.sps, taps.tolist())
        chain = [self]
        if fill_guards or lead_in:
            self.filler = guard_filler(lead_in=lead_in, fill=fill_guards)
            chain.append(self.filler)
        chain.append(self.pulse_shaper)
        if len_tag_key:
            self.length_scaler = blocks.tagged_stream_multiply_length(
                gr.sizeof_gr_complex, len_tag_key, float(self.sps))
            chain.append(self.length_scaler)
        chain.append(self)
        self.connect(*chain)


class air_demodulator(gr.hier_block2):
    """Radio samples -> 1 sample/symbol for phy_rx (AGC, FLL, timing, carrier).

    The output still carries an 8-fold phase ambiguity and a slowly varying
    gain: phy_rx's per-frame preamble estimate of h removes both.

    Args:
        sps: samples per symbol of the incoming signal (integer >= 2).
        rolloff: RRC excess bandwidth in (0, 1] (must match the modulator).
        fll_bw: band-edge FLL loop bandwidth (rad/sample).
        timing_bw: symbol-sync loop bandwidth (normalised to the symbol rate).
        phase_bw: Costas loop bandwidth (rad/symbol).
        n_filters: arms of the polyphase matched filter of the symbol sync.
    """

    def __init__(self, sps=4, rolloff=0.35, fll_bw=0.015, timing_bw=0.02,
                 phase_bw=0.0314, n_filters=32):
        gr.hier_block2.__init__(self, "uoisc_air_demodulator",
                                gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        check_air_params(sps, rolloff)
        for name, value in (("fll_bw", fll_bw), ("timing_bw", timing_bw), ("phase_bw", phase_bw)):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {value!r}")
        if int(n_filters) != n_filters or n_filters < 2:
            raise ValueError(f"n_filters must be an integer >= 2, got {n_filters!r}")
        sps = int(sps)
        # Moderate attack/decay: the AGC only has to follow the radio's gain, not
        # the RRC envelope (phy_rx removes the remaining per-frame gain).
        self.agc = analog.agc2_cc(1e-1, 1e-2, 1.0, 1.0)
        self.agc.set_max_gain(1e5)
        self.fll = digital.fll_band_edge_cc(sps, rolloff, sps * RRC_SPAN_SYMBOLS + 1, fll_bw)
        # Each arm of the bank is the transmit pulse / sps: unit gain at the symbol instant.
        mf_taps = rrc_taps(sps, rolloff, n_filters=int(n_filters)) / sps
        self.symbol_sync = digital.symbol_sync_cc(
            digital.TED_GARDNER, float(sps), timing_bw, 1.0, 1.0, 1.5, 1,
            digital.constellation_8psk().base(), digital.IR_PFB_MF, int(n_filters),
            mf_taps.tolist())
        self.costas = digital.costas_loop_cc(phase_bw, 8, False)
        self.connect(self, self.agc, self.fll, self.symbol_sync, self.costas, self)
        # GNU Radio 3.10.5.1's band-edge FLL never updates its frequency unless
        # all four outputs (signal, frequency, phase, error) are connected.
        self._fll_unused_outputs = [blocks.null_sink(gr.sizeof_float) for _ in range(3)]
        for port, sink in enumerate(self._fll_unused_outputs, start=1):
            self.connect((self.fll, port), sink)
