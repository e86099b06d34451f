#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Least-squares estimate of a flat channel gain and of the noise variance.

Model: r = h * x + w with known reference symbols x and complex white noise w
of variance N0 (E|w|^2 = N0; Es/N0 = 1/N0 for unit-energy symbols, averaged
over fading with E|h|^2 = 1). The LS (and ML) estimate is
h = <x, r> / <x, x>; the unbiased noise variance is the residual energy over
N - 1 (one complex parameter fitted).
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ChannelEstimate:
    """Gain ``h``, noise variance ``noise_var`` (N0) and the derived SNR."""

    h: complex
    noise_var: float

    @property
    def snr_db(self):
        """Instantaneous Es/N0 of the frame, |h|^2 / N0, in dB."""
        return float(10 * np.log10(abs(self.h) ** 2 / self.noise_var))


#: Floor on the noise estimate so a noiseless test link still gives finite LLRs.
MIN_NOISE_VAR = 1e-6


def estimate_channel(received, reference):
    """LS estimate of h and N0 from received reference symbols.

    Args:
        received: complex samples r.
        reference: the known transmitted symbols x, same length (>= 2).

    Raises:
        ValueError: lengths differ, fewer than 2 symbols or zero reference energy.
    """
    r = np.asarray(received, dtype=np.complex128)
    x = np.asarray(reference, dtype=np.complex128)
    if r.shape != x.shape or r.size < 2:
        raise ValueError(f"need equal lengths >= 2, got {r.shape} and {x.shape}")
    energy = np.vdot(x, x).real
    if energy <= 0:
        raise ValueError("reference has zero energy")
    h = np.vdot(x, r) / energy
    noise_var = np.sum(np.abs(r - h * x) ** 2) / (r.size - 1)
    return ChannelEstimate(h=complex(h), noise_var=float(max(noise_var, MIN_NOISE_VAR)))


def header_copy_gains(received_copies, h_before):
    """Gain of each repetition of the BPSK header, for channels that turn within the header.

    The header's copies span 640 symbols: under Doppler the preamble's gain is
    stale by the last copy, and may even pass through zero. All copies carry the
    same antipodal symbols s (|s| = 1, unknown bits), so with r_m = h_m s + w_m
    the matrix R = [<r_n, r_m>] is L h h^H + L N0 I: its principal eigenvector
    is h up to one complex factor, without knowing the bits. That factor's
    phase is taken from the preamble's gain (just before the first copy), its
    magnitude from the eigenvalue.

    Args:
        received_copies: (copies, bits) received header symbols.
        h_before: the gain just before the first copy (the preamble's LS estimate).

    Returns:
        complex array, one gain per copy.
    """
    r = np.asarray(received_copies, dtype=np.complex128)
    eigenvalues, eigenvectors = np.linalg.eigh(r @ r.conj().T)
    v = eigenvectors[:, -1]
    power = max(eigenvalues[-1] / r.shape[1], 0.0)
    phase = np.exp(1j * np.angle(complex(h_before) / v[0])) if v[0] != 0 else 1.0
    return v * np.sqrt(power) * phase
