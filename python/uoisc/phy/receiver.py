#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Burst receiver front end in plain numpy: samples in, per-frame LLRs out.

:class:`BurstReceiver` buffers a 1-sample-per-symbol stream and, per burst:

1. finds the preamble by normalised correlation of its two halves added in
   power (``sync``; tolerant of fast fading), and tries the header at the peak
   and one sample either side;
2. estimates h and N0 by least squares on the 64 preamble symbols
   (``estimator``), equalises and decodes the repeated BPSK header, first with
   one gain per header copy (``estimator.header_copy_gains``: best for slow
   fading), and if its CRC fails again with a gain per symbol tracked through
   the preamble and the header section's pilot blocks
   (``pilot_estimator.header_estimate``: fast fading); a header whose CRC-16
   still fails, that names another LDPC code or another pilot layout than this
   receiver's is dropped (logged, counted in ``stats``);
3. re-estimates h and N0 on preamble + header section (744 known symbols once
   the header CRC passed): ``h_est``;
4. waits for the whole payload section, and equalises it: without pilots with
   that single estimate (block fading, constant over the burst); with pilots
   with a Wiener estimate of the gain at every data symbol from the known
   prefix and the pilot blocks, designed for the Doppler estimated on the
   burst itself (``pilot_estimator``); combines the copies of a repeated
   code (``repetition``); then computes max-log LLRs with each symbol's noise
   (N0 plus the gain estimate's error) over |h_t|^2 (``demapper``) and puts
   them back in codeword order (``interleaver``).

A preamble found inside a payload that is still arriving means the previous
burst was truncated: that burst is dropped (logged) and the new one decoded.
Es/N0 convention: Es = 1, complex noise variance N0; ``snr_est_db`` is the
frame's instantaneous mean |h_t|^2 / N0 (``ReceivedFrame.snr_db``).
"""

import dataclasses
import logging

import numpy as np

from . import framing, interleaver, mapping, pilots, repetition, sync
from .burst import HEADER_PILOTS, KNOWN_LEN as _KNOWN_LEN, known_prefix
from .demapper import maxlog_llr
from .estimator import MIN_NOISE_VAR, ChannelEstimate, estimate_channel, header_copy_gains
from .pilot_estimator import AUTO, check_doppler, estimate_section, header_estimate

logger = logging.getLogger(__name__)

#: Samples around the correlation peak at which the header is also tried.
TIMING_SLACK = 1


@dataclasses.dataclass
class ReceivedFrame:
    """One burst the receiver could read.

    Attributes:
        header: the parsed PL header.
        estimate: LS gain on preamble + header; with pilots, N0 is the one
            pooled over the preamble and the pilot blocks.
        gains: complex gain used to equalise each data symbol.
        llr: float32 LLRs of the frame's n_cw * n coded bits (positive = 1).
        sample_offset: index in the input stream of the first preamble sample.
        doppler: design Doppler of the pilot filter (fD*Ts), None without pilots.
        gain_power: mean |h_t|^2 over the burst, from its received power less N0
            (unit-energy symbols): right under any Doppler, where the one gain of
            ``estimate`` averages a turning phasor, and less noisy than the gains'.
    """

    header: framing.PhyHeader
    estimate: ChannelEstimate
    llr: np.ndarray
    sample_offset: int
    gains: np.ndarray
    doppler: float = None
    gain_power: float = None

    @property
    def snr_db(self):
        """The frame's SNR in dB: mean |h_t|^2 over the burst (``gain_power``) / N0, or
        |h|^2 / N0 of ``estimate`` when gain_power is not given."""
        if self.gain_power is None:
            return self.estimate.snr_db
        return float(10 * np.log10(self.gain_power / self.estimate.noise_var))


class BurstReceiver:
    """Stateful burst receiver for one LDPC code.

    Args:
        n: coded bits per codeword.
        k: information bits per codeword.
        code_id: header id of the code this receiver decodes.
        threshold: preamble detection threshold on the normalised metric (0, 1).
        pilot_params: the ``pilots.PilotParams`` this receiver expects; a burst
            whose header announces another layout is dropped, logged as a
            configuration mismatch.
        pilot_doppler: "auto" (default: estimated per burst from the pilot
            gains) or the fastest normalised gain variation (fD*Ts) the pilot
            filter follows (``pilot_estimator.wiener_interpolate``); larger is
            more agile and noisier. ``pilot_estimator.SLIP_DOPPLER`` behind a
            slipping carrier loop.
        repeat: times the code's data block is sent (``repetition``); the copies
            are combined by maximum-ratio combining before demapping.
        other_modes: {header code id: repeat} of further codes to accept that
            differ from this one only in their repetition (the same LDPC
            decoder reads them; ``codes.repetition_modes``): each burst is read
            with the repetition its header announces.
    """

    def __init__(self, n, k, code_id, threshold=sync.DEFAULT_THRESHOLD, pilot_params=pilots.PilotParams(),
                 pilot_doppler=AUTO, repeat=1, other_modes=None):
        if not 0 < threshold < 1:
            raise ValueError(f"threshold {threshold} must be in (0, 1)")
        if not isinstance(pilot_params, pilots.PilotParams):
            raise ValueError(f"pilot_params {pilot_params!r} is not a pilots.PilotParams")
        check_doppler(pilot_doppler)
        self.pilot_params = pilot_params
        self.pilot_doppler = pilot_doppler if pilot_doppler == AUTO else float(pilot_doppler)
        self.n, self.k, self.code_id, self.threshold = int(n), int(k), int(code_id), float(threshold)
        #: header code id -> repetition, of every code this receiver reads
        self.modes = {self.code_id: repetition.check_repeat(repeat)}
        self.modes.update({int(cid): repetition.check_repeat(r) for cid, r in (other_modes or {}).items()})
        self.stats = {"frames": 0, "header_crc_fail": 0, "wrong_code": 0, "wrong_pilots": 0,
                      "truncated": 0, "non_finite": 0,
                      "header_tracked": 0, "header_retimed": 0}
        self._offset = 0  # stream index of _buf[0]
        self._buf = np.zeros(0, dtype=np.complex64)
        self.reset()

    def reset(self):
        """Forget buffered samples and any frame in progress (statistics are kept)."""
        self._drop(self._buf.size)
        self._pending = None  # (header, estimate, total_len) while a payload arrives
        self._checked = 0  # payload positions already searched for a preamble

    def push(self, samples):
        """Add samples; return the list of :class:`ReceivedFrame` completed."""
        samples = np.asarray(samples, dtype=np.complex64)
        bad = ~np.isfinite(samples)
        if bad.any():  # one inf would turn every FFT correlation of the buffer into NaN
            self.stats["non_finite"] += int(bad.sum())
            logger.warning("zeroed %d non-finite input samples", int(bad.sum()))
            samples = np.where(bad, 0, samples).astype(np.complex64)
        self._buf = np.concatenate([self._buf, samples])
        frames = []
        while True:
            progressed, frame = (self._wait_payload() if self._pending else self._search())
            if frame is not None:
                frames.append(frame)
            if not progressed:
                return frames

    def _drop(self, count):
        self._buf = self._buf[count:]
        self._offset += count

    def _search(self):
        """Look for a preamble and read the header. Returns (progressed, frame)."""
        plen = mapping.PREAMBLE_LEN
        metric = sync.correlation_metric(self._buf, mapping.PREAMBLE, sync.SEARCH_SEGMENTS)
        start, complete = sync.find_preamble(metric, self.threshold, plen)
        if start is None:
            self._drop(max(0, self._buf.size - plen + 1))
            return False, None
        # Keep TIMING_SLACK samples before the preamble: the header is also tried one sample early.
        lead = min(start, TIMING_SLACK)
        self._drop(start - lead)
        if not complete or self._buf.size < lead + _KNOWN_LEN + TIMING_SLACK:
            return False, None
        return True, self._read_header(lead)

    def _read_header(self, lead):
        """Decode the header of the preamble found at _buf[lead]; on success arm the payload wait.

        Under fast fading the correlation peak can miss the preamble by a sample,
        so the header is also tried at the neighbouring timings."""
        for base in (lead, lead - 1, lead + 1):
            if base >= 0:
                decoded = self._decode_header(self._buf[base:base + _KNOWN_LEN])
                if decoded is not None:
                    break
        else:
            self.stats["header_crc_fail"] += 1
            logger.info("dropped burst at sample %d: header CRC failed", self._offset + lead)
            self._drop(lead + 1)
            return None
        self._drop(base)
        self.stats["header_retimed"] += base != lead
        header_bytes, header = decoded
        if header.code_id not in self.modes:
            self.stats["wrong_code"] += 1
            logger.warning("dropped burst at sample %d: code id %d, this receiver decodes %s",
                           self._offset, header.code_id, sorted(self.modes))
            self._drop(1)
            return None
        announced = (header.pilot_interval, header.pilot_len)
        if announced != (self.pilot_params.interval, self.pilot_params.length):
            self.stats["wrong_pilots"] += 1
            logger.warning("dropped burst at sample %d: pilot_interval/pilot_len %d/%d in its header, this "
                           "receiver is configured for %d/%d", self._offset, *announced,
                           self.pilot_params.interval, self.pilot_params.length)
            self._drop(1)
            return None
        estimate = estimate_channel(self._buf[:_KNOWN_LEN], known_prefix(header_bytes))
        section = pilots.frame_section_len(header.payload_len, self.n, self.k, self.pilot_params,
                                           self.modes[header.code_id])
        self._pending = (header, estimate, _KNOWN_LEN + section)
        # Search for a next preamble from right after this one: a burst cut inside its header can
        # still pass the header CRC (8 copies combined), and the next preamble then starts there.
        self._checked = mapping.PREAMBLE_LEN
        return None

    def _decode_header(self, known):
        """(header bytes, parsed header) of the known part of a burst, or None if its CRC fails."""
        plen = mapping.PREAMBLE_LEN
        coarse = estimate_channel(known[:plen], mapping.PREAMBLE)
        header_section = known[plen:]
        symbols = header_section[pilots.data_positions(mapping.HEADER_SYMBOLS, HEADER_PILOTS)]
        copies = symbols.reshape(mapping.HEADER_REPEAT, framing.HEADER_BITS)
        gains = header_copy_gains(copies * np.conj(mapping.HEADER_POINT), coarse.h)
        # Maximum-ratio combining of the copies, each with its own gain (Doppler turns h within the header).
        header_bytes = self._header_bytes((copies * np.conj(gains)[:, None]).ravel())
        try:
            return header_bytes, framing.parse_header(header_bytes)
        except framing.HeaderError:
            pass
        # Faster fading than one gain per 80-symbol copy can follow: track the gain per symbol.
        gains, symbol_noise = header_estimate(known[:plen], header_section, self.pilot_doppler)
        header_bytes = self._header_bytes(symbols * np.conj(gains) / symbol_noise)
        try:
            header = framing.parse_header(header_bytes)
        except framing.HeaderError:
            return None
        self.stats["header_tracked"] += 1
        return header_bytes, header

    @staticmethod
    def _header_bytes(combining):
        """Header bytes decided from the header symbols weighted for maximum-ratio combining."""
        return np.packbits((mapping.header_soft_bits(combining) < 0).astype(np.uint8)).tobytes()

    def _wait_payload(self):
        """Finish the pending frame when its payload is complete. Returns (progressed, frame)."""
        header, estimate, total = self._pending
        plen = mapping.PREAMBLE_LEN
        # A new preamble inside the expected payload means this burst was cut short.
        region_end = min(self._buf.size, total + plen - 1)
        if region_end - self._checked >= plen:
            metric = sync.correlation_metric(self._buf[self._checked:region_end], mapping.PREAMBLE)
            hits = np.flatnonzero(metric >= self.threshold)
            hits = hits[hits + self._checked < total]
            if hits.size:
                self.stats["truncated"] += 1
                logger.info("dropped truncated burst seq %d at sample %d", header.seq, self._offset)
                self._drop(self._checked + int(hits[0]))
                self._pending = None
                return True, None
            self._checked = region_end - plen + 1
        if self._buf.size < total:
            return False, None
        received, gains, symbol_noise, estimate, doppler = self._equalisation(
            self._buf[_KNOWN_LEN:total], header, estimate)
        n_bits = framing.n_codewords(header.payload_len, self.k) * self.n
        llr = maxlog_llr(*repetition.combine(received, gains, symbol_noise, self.modes[header.code_id]))[:n_bits]
        llr = interleaver.deinterleave(llr, self.n)
        power = float(np.mean(np.abs(self._buf[:total]) ** 2)) - estimate.noise_var
        frame = ReceivedFrame(header, estimate, llr, self._offset, gains, doppler,
                              max(power, MIN_NOISE_VAR))
        self._drop(total)
        self._pending = None
        self.stats["frames"] += 1
        return True, frame

    def _equalisation(self, section, header, estimate):
        """(data symbols, their gains, their noise variance, frame estimate, design Doppler or None)
        of a received payload section."""
        n_data = pilots.frame_data_symbols(header.payload_len, self.n, self.k, self.modes[header.code_id])
        if not self.pilot_params.enabled:
            return section, np.full(n_data, estimate.h), estimate.noise_var, estimate, None
        result = estimate_section(section, self._buf[:_KNOWN_LEN], known_prefix(framing.pack_header(header)),
                                  self.pilot_params, n_data, self.pilot_doppler)
        data = section[pilots.data_positions(n_data, self.pilot_params)]
        return data, result.gains, result.symbol_noise, ChannelEstimate(estimate.h, result.noise_var), result.doppler
