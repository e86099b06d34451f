#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Link metrics of the PHY: BER, FER, CRC-flag accuracy, SNR-estimate error, throughput.

Plain numpy, no flowgraph: the simulator (``link_sim``) feeds it what went in
and what came out, and tests check it on hand-made cases.

Conventions:
- bits are unpacked MSB first (``np.unpackbits``), like the PHY's framing;
- an LLR is positive for bit 1 (gr-fec's ``ldpc_decoder`` convention), so the
  hard decision before decoding is ``llr > 0``;
- a frame is in error when it was lost (header failed, never delivered) or
  delivered with any payload byte wrong;
- a codeword's CRC flag is *right* when it says "bad" exactly when the
  codeword's payload bytes really differ from what was sent.
"""

import dataclasses

import numpy as np


def bits_from_bytes(data):
    """Unpack bytes (any buffer or u8 sequence) into a uint8 0/1 array, MSB first."""
    return np.unpackbits(np.frombuffer(bytes(bytearray(data)), dtype=np.uint8))


def count_bit_errors(sent_bits, received_bits):
    """Number of positions where two equal-length 0/1 arrays differ.

    Raises:
        ValueError: if the lengths differ.
    """
    sent_bits = np.asarray(sent_bits, dtype=np.uint8)
    received_bits = np.asarray(received_bits, dtype=np.uint8)
    if sent_bits.shape != received_bits.shape:
        raise ValueError(
            f"bit arrays differ in length: sent {sent_bits.size}, received {received_bits.size}")
    return int(np.count_nonzero(sent_bits != received_bits))


def hard_decisions(llr):
    """Bits decided from LLRs (positive = 1) before decoding."""
    return (np.asarray(llr, dtype=np.float64) > 0).astype(np.uint8)


def codeword_error_flags(sent_payload, received_payload, bytes_per_codeword):
    """Which codewords carry at least one wrong payload byte.

    Args:
        sent_payload: the bytes given to phy_tx.
        received_payload: the bytes phy_rx delivered (same length).
        bytes_per_codeword: payload bytes carried by one LDPC codeword (the
            last codeword may carry fewer).

    Returns:
        bool array, one entry per codeword, True where the codeword has errors.
    """
    if bytes_per_codeword < 1:
        raise ValueError(f"bytes_per_codeword must be >= 1, got {bytes_per_codeword!r}")
    sent = np.frombuffer(bytes(bytearray(sent_payload)), dtype=np.uint8)
    received = np.frombuffer(bytes(bytearray(received_payload)), dtype=np.uint8)
    if sent.shape != received.shape:
        raise ValueError(f"payload lengths differ: sent {sent.size}, received {received.size}")
    n_codewords = max(1, -(-sent.size // bytes_per_codeword))
    wrong = np.zeros(n_codewords * bytes_per_codeword, dtype=bool)
    wrong[:sent.size] = sent != received
    return wrong.reshape(n_codewords, bytes_per_codeword).any(axis=1)


def crc_flag_confusion(crc_ok, has_errors):
    """Confusion counts of per-codeword CRC flags against the truth.

    Args:
        crc_ok: per codeword, True/1 when the receiver's CRC passed.
        has_errors: per codeword, True when the codeword really has errors.

    Returns:
        dict with ``flagged_bad_with_errors``, ``flagged_bad_but_clean``,
        ``flagged_ok_with_errors`` (undetected errors) and ``flagged_ok_clean``.
    """
    crc_ok = np.asarray(crc_ok).astype(bool)
    has_errors = np.asarray(has_errors).astype(bool)
    if crc_ok.shape != has_errors.shape:
        raise ValueError(
            f"{crc_ok.size} CRC flags for {has_errors.size} codewords")
    return {
        "flagged_bad_with_errors": int(np.count_nonzero(~crc_ok & has_errors)),
        "flagged_bad_but_clean": int(np.count_nonzero(~crc_ok & ~has_errors)),
        "flagged_ok_with_errors": int(np.count_nonzero(crc_ok & has_errors)),
        "flagged_ok_clean": int(np.count_nonzero(crc_ok & ~has_errors)),
    }


def snr_estimate_error_db(estimates_db, true_esno_db):
    """Error of the receiver's SNR estimates against the nominal Es/N0.

    The estimates are averaged in the linear domain before the comparison, so
    in flat fading (E|h|^2 = 1, per-frame estimates of |h|^2 Es/N0) the mean
    still targets the nominal Es/N0.

    Returns:
        dict: ``mean_error_db`` (dB of the linear mean minus the truth) and
        ``rms_error_db`` (per-frame spread around the truth, meaningful in
        AWGN), or None values when there are no estimates.
    """
    estimates_db = np.asarray(estimates_db, dtype=np.float64)
    estimates_db = estimates_db[np.isfinite(estimates_db)]
    if estimates_db.size == 0:
        return {"mean_error_db": None, "rms_error_db": None}
    linear_mean = np.mean(10.0 ** (estimates_db / 10.0))
    return {
        "mean_error_db": float(10.0 * np.log10(linear_mean) - true_esno_db),
        "rms_error_db": float(np.sqrt(np.mean((estimates_db - true_esno_db) ** 2))),
    }


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator else None


@dataclasses.dataclass
class LinkStats:
    """Accumulates what one simulated link point sent and received.

    Fill it with :meth:`add_delivered`, :meth:`add_lost` and
    :meth:`add_coded_frame`, then call :meth:`summary`.
    """

    frames_sent: int = 0
    frames_delivered: int = 0
    frames_wrong: int = 0
    info_bits_delivered: int = 0
    info_bit_errors: int = 0
    info_bits_correct: int = 0
    coded_bits: int = 0
    coded_bit_errors: int = 0
    crc: dict = dataclasses.field(default_factory=lambda: crc_flag_confusion([], []))
    #: Frames whose number of CRC flags did not match their codewords (not scored).
    crc_flag_count_mismatches: int = 0
    snr_estimates_db: list = dataclasses.field(default_factory=list)

    def add_delivered(self, sent_payload, received_payload, cw_crc_ok, bytes_per_codeword,
                      snr_est_db=None):
        """Count one frame that phy_rx delivered.

        Args:
            sent_payload: bytes given to phy_tx.
            received_payload: bytes delivered by phy_rx.
            cw_crc_ok: per-codeword CRC flags from the PDU metadata.
            bytes_per_codeword: payload bytes per LDPC codeword.
            snr_est_db: the receiver's SNR estimate for this frame.
        """
        self.frames_sent += 1
        self.frames_delivered += 1
        sent_bits = bits_from_bytes(sent_payload)
        received_bytes = bytes(bytearray(received_payload))
        if len(received_bytes) != len(bytes(bytearray(sent_payload))):
            # A length mismatch means the header lied: the whole frame is wrong.
            self.frames_wrong += 1
            self.info_bits_delivered += sent_bits.size
            self.info_bit_errors += sent_bits.size
            return
        errors = count_bit_errors(sent_bits, bits_from_bytes(received_bytes))
        self.info_bits_delivered += sent_bits.size
        self.info_bit_errors += errors
        if errors:
            self.frames_wrong += 1
        else:
            self.info_bits_correct += sent_bits.size
        truth = codeword_error_flags(sent_payload, received_bytes, bytes_per_codeword)
        flags = np.asarray(cw_crc_ok).astype(bool)
        if flags.size == truth.size:
            for key, value in crc_flag_confusion(flags, truth).items():
                self.crc[key] += value
        else:
            self.crc_flag_count_mismatches += 1
        if snr_est_db is not None:
            self.snr_estimates_db.append(float(snr_est_db))

    def add_lost(self, n_frames=1):
        """Count frames that were sent but never delivered."""
        self.frames_sent += n_frames

    def add_coded_frame(self, coded_bits, llr):
        """Count pre-decoding bit errors of one frame (coded bits vs LLR signs).

        Raises:
            ValueError: if the lengths differ.
        """
        coded_bits = np.asarray(coded_bits, dtype=np.uint8)
        errors = count_bit_errors(coded_bits, hard_decisions(llr))
        self.coded_bits += coded_bits.size
        self.coded_bit_errors += errors

    def summary(self, elapsed_s=None, true_esno_db=None):
        """The point's metrics as a JSON-ready dict (None where undefined)."""
        crc_total = sum(self.crc.values())
        crc_right = self.crc["flagged_bad_with_errors"] + self.crc["flagged_ok_clean"]
        frames_lost = self.frames_sent - self.frames_delivered
        result = {
            "frames_sent": self.frames_sent,
            "frames_delivered": self.frames_delivered,
            "frames_lost": frames_lost,
            "frames_wrong": self.frames_wrong,
            "fer": _ratio(frames_lost + self.frames_wrong, self.frames_sent),
            "ber_pre_decoding": _ratio(self.coded_bit_errors, self.coded_bits),
            "coded_bits": self.coded_bits,
            "ber_post_decoding": _ratio(self.info_bit_errors, self.info_bits_delivered),
            "info_bits_delivered": self.info_bits_delivered,
            "crc_flag_accuracy": _ratio(crc_right, crc_total),
            "crc_flags": dict(self.crc),
            "crc_flag_count_mismatches": self.crc_flag_count_mismatches,
            "info_bits_correct": self.info_bits_correct,
        }
        if true_esno_db is not None:
            result["snr_estimate"] = snr_estimate_error_db(self.snr_estimates_db, true_esno_db)
        if elapsed_s is not None:
            result["elapsed_s"] = float(elapsed_s)
            result["info_throughput_bps"] = _ratio(self.info_bits_correct, elapsed_s)
            # Bits the receiver got through, right or wrong: the decoder's work rate.
            result["delivered_info_bps"] = _ratio(self.info_bits_delivered, elapsed_s)
        return result
