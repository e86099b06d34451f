#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Burst receiver front end in plain numpy: samples in, per-frame LLRs out.

:class:`BurstReceiver` buffers a 1-sample-per-symbol stream and, per burst:

1. finds the preamble by normalised correlation (``sync``);
2. estimates h and N0 by least squares on the 64 preamble symbols
   (``estimator``), equalises and decodes the repeated BPSK header; a header
   whose CRC-16 fails, or that names another LDPC code, is dropped (logged);
3. re-estimates h and N0 on preamble + header (576 known symbols once the
   header CRC passed), which cuts the estimation error by 3x;
4. waits for the whole payload, equalises it with that single estimate (flat
   fading, constant over the burst) -- or, with ``tracking_len``, with gains
   tracked by decision-directed LS (``tracking``) -- and computes max-log LLRs
   (``demapper``).

A preamble found inside a payload that is still arriving means the previous
burst was truncated: that burst is dropped (logged) and the new one decoded.
Es/N0 convention: Es = 1, complex noise variance N0; ``snr_est_db`` is the
frame's instantaneous |h|^2 / N0.
"""

import dataclasses
import logging

import numpy as np

from . import framing, mapping, sync
from .demapper import maxlog_llr
from .estimator import ChannelEstimate, estimate_channel
from .tracking import track_gain

logger = logging.getLogger(__name__)

_KNOWN_LEN = mapping.PREAMBLE_LEN + mapping.HEADER_SYMBOLS


@dataclasses.dataclass
class ReceivedFrame:
    """One burst the receiver could read.

    Attributes:
        header: the parsed PL header.
        estimate: LS channel estimate on preamble + header.
        llr: float32 LLRs of the frame's n_cw * n coded bits (positive = 1).
        sample_offset: index in the input stream of the first preamble sample.
    """

    header: framing.PhyHeader
    estimate: ChannelEstimate
    llr: np.ndarray
    sample_offset: int


class BurstReceiver:
    """Stateful burst receiver for one LDPC code.

    Args:
        n: coded bits per codeword.
        k: information bits per codeword.
        code_id: header id of the code this receiver decodes.
        threshold: preamble detection threshold on the normalised metric (0, 1).
        tracking_len: 0 to equalise the whole payload with the preamble + header
            estimate (block fading), or the segment length of decision-directed
            gain tracking (``tracking.track_gain``) for time-varying channels.
    """

    def __init__(self, n, k, code_id, threshold=sync.DEFAULT_THRESHOLD, tracking_len=0):
        if not 0 < threshold < 1:
            raise ValueError(f"threshold {threshold} must be in (0, 1)")
        if tracking_len and tracking_len < 8:
            raise ValueError(f"tracking_len {tracking_len} must be 0 (off) or >= 8")
        self.tracking_len = int(tracking_len)
        self.n, self.k, self.code_id, self.threshold = int(n), int(k), int(code_id), float(threshold)
        self.stats = {"frames": 0, "header_crc_fail": 0, "wrong_code": 0, "truncated": 0,
                      "non_finite": 0}
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
        metric = sync.correlation_metric(self._buf, mapping.PREAMBLE)
        start, complete = sync.find_preamble(metric, self.threshold, plen)
        if start is None:
            self._drop(max(0, self._buf.size - plen + 1))
            return False, None
        self._drop(start)
        if not complete or self._buf.size < _KNOWN_LEN:
            return False, None
        return True, self._read_header()

    def _read_header(self):
        """Decode the header at _buf[0]; on success arm the payload wait."""
        plen = mapping.PREAMBLE_LEN
        coarse = estimate_channel(self._buf[:plen], mapping.PREAMBLE)
        soft = mapping.header_soft_bits(self._buf[plen:_KNOWN_LEN] / coarse.h)
        header_bytes = np.packbits((soft < 0).astype(np.uint8)).tobytes()
        try:
            header = framing.parse_header(header_bytes)
        except framing.HeaderError as err:
            self.stats["header_crc_fail"] += 1
            logger.info("dropped burst at sample %d: %s (snr %.1f dB)", self._offset, err, coarse.snr_db)
            self._drop(1)
            return None
        if header.code_id != self.code_id:
            self.stats["wrong_code"] += 1
            logger.warning("dropped burst at sample %d: code id %d, this receiver decodes %d",
                           self._offset, header.code_id, self.code_id)
            self._drop(1)
            return None
        known = np.concatenate([mapping.PREAMBLE, mapping.header_symbols(header_bytes)])
        estimate = estimate_channel(self._buf[:_KNOWN_LEN], known)
        n_bits = framing.n_codewords(header.payload_len, self.k) * self.n
        # Tracking starts from the gain at the end of the header, not its 576-symbol average.
        self._track_start = (estimate_channel(self._buf[_KNOWN_LEN - self.tracking_len:_KNOWN_LEN],
                                              known[-self.tracking_len:]).h if self.tracking_len else None)
        self._pending = (header, estimate, _KNOWN_LEN + mapping.payload_symbol_count(n_bits))
        self._checked = _KNOWN_LEN
        return None

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
        received = self._buf[_KNOWN_LEN:total]
        gains = (track_gain(received, self._track_start, self.tracking_len) if self.tracking_len
                 else np.full(received.size, estimate.h))
        gain_power = np.maximum(np.abs(gains) ** 2, 1e-12)
        n_bits = framing.n_codewords(header.payload_len, self.k) * self.n
        llr = maxlog_llr(received / gains, estimate.noise_var / gain_power)[:n_bits]
        frame = ReceivedFrame(header, estimate, llr, self._offset)
        self._drop(total)
        self._pending = None
        self.stats["frames"] += 1
        return True, frame
