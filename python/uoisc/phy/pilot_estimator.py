#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Channel gain over a burst from its pilot blocks (time-varying flat channel).

Model: r_t = h(t) x_t + w_t, complex noise of variance N0. Anchors of h(t):

- the last :data:`HEADER_ANCHOR_LEN` header symbols (known once the header CRC
  passed), just before the payload section;
- each pilot block: the LS estimate over its ``pilot_len`` symbols, placed at
  the block's centre (h is taken constant over a block: a few symbols).

The anchors are first smoothed by a robust Wiener filter (:func:`wiener_smooth`):
the channel is modelled with a flat Doppler spectrum up to the design Doppler
(autocorrelation sinc(2 fD tau)), the robust choice of Li, Cimini and
Sollenberger (IEEE Trans. Commun. 1998, for OFDM; the argument is the same in
time): mismatch-tolerant for every slower channel. Each anchor is re-estimated
from its :data:`SMOOTHING_HALF_WIDTH` neighbours on each side. On a static
channel this cuts the anchors' noise several-fold, which linear interpolation of
the raw anchors (equalisation noise up to N0 / pilot_len) could not: measured in
docs/phy.md, the raw anchors lost ~0.5 dB in AWGN. The gain of every data symbol
is then the linear interpolation of the smoothed complex anchors (real and
imaginary parts).

N0 is pooled over the residuals of the preamble and of every pilot block
(pilot_len - 1 degrees of freedom each), not over the whole header: under
Doppler the 704-symbol header spans a large part of a fading period and its
residual would count the fading as noise.
"""

import numpy as np

from . import pilots
from .estimator import MIN_NOISE_VAR

#: Header symbols used as the first anchor (short enough to be current under Doppler).
HEADER_ANCHOR_LEN = 32
#: Default largest normalised Doppler fD*Ts the smoothing filter is designed for.
DESIGN_DOPPLER = 1e-3
#: Design Doppler for a link behind a carrier loop that slips (air modem): the filter must
#: follow a 45-degree step within about one pilot interval (measured in docs/phy.md).
SLIP_DOPPLER = 1e-2
#: Anchors on each side that the smoothing filter combines.
SMOOTHING_HALF_WIDTH = 8


def block_gains(received_blocks, reference_blocks):
    """LS gain of each row and the residual energy of all rows.

    Args:
        received_blocks, reference_blocks: (blocks, length) complex arrays.

    Returns:
        (gains, residual energy summed over all blocks)
    """
    r = np.asarray(received_blocks, dtype=np.complex128)
    x = np.asarray(reference_blocks, dtype=np.complex128)
    gains = np.sum(np.conj(x) * r, axis=1) / np.sum(np.abs(x) ** 2, axis=1)
    residual = float(np.sum(np.abs(r - gains[:, None] * x) ** 2))
    return gains, residual


def interpolate_gains(anchor_times, anchor_gains, times):
    """Linear interpolation of complex gains (held constant outside the anchors)."""
    return (np.interp(times, anchor_times, anchor_gains.real)
            + 1j * np.interp(times, anchor_times, anchor_gains.imag))


def check_doppler(doppler):
    """Raise ValueError unless 0 < doppler <= 0.5 (normalised frequency)."""
    if not 0 < doppler <= 0.5:
        raise ValueError(f"pilot doppler {doppler!r} must be in (0, 0.5] (fD*Ts)")


def wiener_smooth(times, gains, noise_vars, doppler=DESIGN_DOPPLER, half_width=SMOOTHING_HALF_WIDTH):
    """MMSE re-estimate of each anchor gain from its neighbours (flat Doppler spectrum prior).

    Args:
        times: anchor positions (symbols), increasing.
        gains: complex LS gains at the anchors.
        noise_vars: variance of each anchor's estimation error (N0 / symbols in it).
        doppler: the prior's largest normalised Doppler.
        half_width: neighbours used on each side (the window is shifted at the ends).

    Returns:
        complex array of smoothed gains.
    """
    times, gains, noise_vars = (np.asarray(v) for v in (times, gains, noise_vars))
    n = times.size
    width = min(2 * half_width + 1, n)
    starts = np.clip(np.arange(n) - half_width, 0, n - width)
    windows = starts[:, None] + np.arange(width)[None, :]  # (anchors, width)
    signal_power = max(float(np.mean(np.abs(gains) ** 2) - np.mean(noise_vars)), 1e-3 * float(np.mean(noise_vars)))
    lag = times[windows][:, :, None] - times[windows][:, None, :]
    covariance = np.sinc(2 * doppler * lag) + np.eye(width) * (noise_vars[windows] / signal_power)[:, None, :]
    cross = np.sinc(2 * doppler * (times[:, None] - times[windows]))
    weights = np.linalg.solve(covariance, cross[:, :, None])[:, :, 0]
    return np.sum(weights * gains[windows], axis=1)


def estimate_section(section, header_tail, header_tail_ref, params, n_data, preamble_residual=(0.0, 0),
                     doppler=DESIGN_DOPPLER):
    """Per-data-symbol gains and the pooled N0 of a payload section with pilots.

    Args:
        section: received payload section (``pilots.section_len(n_data, params)`` samples).
        header_tail: the received last header symbols (the first anchor).
        header_tail_ref: their known transmitted symbols.
        params: ``pilots.PilotParams`` of the burst (enabled).
        n_data: data symbols in the section.
        preamble_residual: (residual energy, degrees of freedom) of another
            estimate to pool into N0 (the preamble's).
        doppler: design Doppler of the smoothing filter (:func:`wiener_smooth`).

    Returns:
        (gains: complex array of n_data, noise_var: float)

    Raises:
        ValueError: pilots disabled or a section of the wrong length.
    """
    if not params.enabled:
        raise ValueError(f"estimate_section needs pilots, got {params}")
    check_doppler(doppler)
    section = np.asarray(section, dtype=np.complex128)
    expected = pilots.section_len(n_data, params)
    if section.size != expected:
        raise ValueError(f"section of {section.size} symbols, layout needs {expected}")
    positions = pilots.pilot_positions(n_data, params)
    gains, residual = block_gains(section[positions], pilots.pilot_symbols(positions.shape[0], params))
    (h_head,), head_residual = block_gains(np.asarray(header_tail)[None, :], np.asarray(header_tail_ref)[None, :])
    anchor_times = np.concatenate([[-(len(header_tail) + 1) / 2], positions.mean(axis=1)])
    extra_energy, extra_dof = preamble_residual
    dof = positions.shape[0] * (params.length - 1) + len(header_tail) - 1 + extra_dof
    noise_var = max((residual + head_residual + extra_energy) / max(dof, 1), MIN_NOISE_VAR)
    anchor_noise = noise_var / np.concatenate([[len(header_tail)], np.full(gains.size, params.length)])
    anchor_gains = wiener_smooth(anchor_times, np.concatenate([[h_head], gains]), anchor_noise, doppler)
    data_gains = interpolate_gains(anchor_times, anchor_gains, pilots.data_positions(n_data, params))
    return data_gains, noise_var
