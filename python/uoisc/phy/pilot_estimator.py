#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Channel gain over a burst from its pilot blocks (time-varying flat channel).

Model: r_t = h(t) x_t + w_t, complex noise of variance N0. Anchors of h(t):

- the last :data:`HEADER_ANCHOR_LEN` header symbols (known once the header CRC
  passed), just before the payload section;
- each pilot block: the LS estimate over its ``pilot_len`` symbols, placed at
  the block's centre (h is taken constant over a block: a few symbols).

The gain of every data symbol is the linear interpolation of the complex
anchors (real and imaginary parts), which follows both a fading gain and a
phase jump of a carrier loop (a Costas slip of 45 degrees only spoils the data
between the two anchors around it). Linear interpolation of the raw anchors
rather than a Wiener filter: it needs no Doppler or SNR prior, and halves the
estimation noise half-way between anchors; its cost on a static channel is an
equalisation noise of at most N0 / pilot_len (measured in docs/phy.md).

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


def estimate_section(section, header_tail, header_tail_ref, params, n_data, preamble_residual=(0.0, 0)):
    """Per-data-symbol gains and the pooled N0 of a payload section with pilots.

    Args:
        section: received payload section (``pilots.section_len(n_data, params)`` samples).
        header_tail: the received last header symbols (the first anchor).
        header_tail_ref: their known transmitted symbols.
        params: ``pilots.PilotParams`` of the burst (enabled).
        n_data: data symbols in the section.
        preamble_residual: (residual energy, degrees of freedom) of another
            estimate to pool into N0 (the preamble's).

    Returns:
        (gains: complex array of n_data, noise_var: float)

    Raises:
        ValueError: pilots disabled or a section of the wrong length.
    """
    if not params.enabled:
        raise ValueError(f"estimate_section needs pilots, got {params}")
    section = np.asarray(section, dtype=np.complex128)
    expected = pilots.section_len(n_data, params)
    if section.size != expected:
        raise ValueError(f"section of {section.size} symbols, layout needs {expected}")
    positions = pilots.pilot_positions(n_data, params)
    gains, residual = block_gains(section[positions], pilots.pilot_symbols(positions.shape[0], params))
    (h_head,), head_residual = block_gains(np.asarray(header_tail)[None, :], np.asarray(header_tail_ref)[None, :])
    anchor_times = np.concatenate([[-(len(header_tail) + 1) / 2], positions.mean(axis=1)])
    anchor_gains = np.concatenate([[h_head], gains])
    data_gains = interpolate_gains(anchor_times, anchor_gains, pilots.data_positions(n_data, params))
    extra_energy, extra_dof = preamble_residual
    dof = positions.shape[0] * (params.length - 1) + len(header_tail) - 1 + extra_dof
    noise_var = (residual + head_residual + extra_energy) / max(dof, 1)
    return data_gains, max(noise_var, MIN_NOISE_VAR)
