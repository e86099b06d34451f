#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Channel gain over a burst from its known-symbol anchors (time-varying flat channel).

Model: r_t = h(t) x_t + w_t, complex noise of variance N0. An *anchor* is the
LS gain of a short block of known symbols, placed at the block's centre, with
estimation-noise variance N0 / (symbols in the block):

- the known prefix of the burst (preamble + header, known once the header CRC
  passed), cut into blocks of :data:`PREFIX_ANCHOR_LEN` symbols;
- each pilot block of the payload section.

The gain of every data symbol is the MMSE (Wiener) estimate from the
``2 * SMOOTHING_HALF_WIDTH`` anchors nearest to it (:func:`wiener_interpolate`),
under a flat Doppler spectrum up to a design Doppler (autocorrelation
sinc(2 fD tau)), the robust design of Li, Cimini and Sollenberger (IEEE Trans.
Commun. 1998, for OFDM; the argument is the same in time): right for every
slower channel. With ``doppler="auto"`` (the default) the design Doppler is
estimated per burst from the pilot anchors (``doppler``): a static burst gets a
narrow filter that averages the whole window (little noise), a fast one a wide
filter that follows it. The filter's own error variance (MSE) is returned with
the gains, so the demapper can count it as extra noise: where the gain is
poorly known (fast fading, far from any anchor) the LLRs are less confident
instead of confidently wrong.

N0 is pooled over the residuals of the pilot blocks, whose few symbols see
almost no fading drift; the prefix blocks (7 degrees of freedom each, but a
fast channel turns within them) are pooled in only when the pilots alone have
fewer than :data:`MIN_PILOT_DOF` degrees of freedom.
"""

import dataclasses

import numpy as np

from . import burst, mapping, pilots
from . import doppler as doppler_estimation
from .estimator import MIN_NOISE_VAR

#: Known symbols per anchor in the burst's known prefix.
PREFIX_ANCHOR_LEN = 8
#: "Estimate the design Doppler per burst" (the default of the receiver).
AUTO = "auto"
#: Design Doppler for a link behind a carrier loop that slips (air modem): the filter must
#: follow a 45-degree step within about one pilot interval (measured in docs/phy.md).
SLIP_DOPPLER = 1e-2
#: Anchors on each side of a data symbol that the filter combines.
SMOOTHING_HALF_WIDTH = 16
#: Targets per row of the batched Wiener product (about one pilot interval).
_ROW_LEN = 32
#: Pilot-residual degrees of freedom enough for N0 on their own.
MIN_PILOT_DOF = 64


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


def check_doppler(doppler):
    """Raise ValueError unless doppler is "auto" or a number in (0, 0.5] (fD*Ts)."""
    if isinstance(doppler, str):
        if doppler != AUTO:
            raise ValueError(f"pilot doppler {doppler!r} must be {AUTO!r} or a number in (0, 0.5]")
        return
    if not 0 < doppler <= 0.5:
        raise ValueError(f"pilot doppler {doppler!r} must be {AUTO!r} or in (0, 0.5] (fD*Ts)")


def parse_doppler(value):
    """``"auto"`` or a float from a user's value (a number or its text); ValueError otherwise."""
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    try:
        doppler = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"pilot doppler {value!r} must be {AUTO!r} or a number in (0, 0.5]") from None
    check_doppler(doppler)
    return doppler


@dataclasses.dataclass(frozen=True)
class Anchors:
    """Gain observations: ``times`` (symbols, increasing), complex ``gains`` and the
    estimation-noise variance ``noise`` of each."""

    times: np.ndarray
    gains: np.ndarray
    noise: np.ndarray

    @staticmethod
    def join(*parts):
        """The anchors of several sets, in time order."""
        times = np.concatenate([p.times for p in parts])
        order = np.argsort(times, kind="stable")
        return Anchors(times[order], np.concatenate([p.gains for p in parts])[order],
                       np.concatenate([p.noise for p in parts])[order])


def known_blocks(received, reference, block_len, start_time):
    """Anchors of a run of known symbols cut into blocks of ``block_len`` (the first,
    partial block is left out) and their residual (energy, degrees of freedom).

    Args:
        received, reference: the received and the known transmitted symbols.
        block_len: symbols per anchor (>= 1).
        start_time: time (symbol index) of ``received[0]``.

    Returns:
        (times, gains, residual energy, degrees of freedom); times are the
        block centres.
    """
    received = np.asarray(received)
    skip = received.size % block_len
    n_blocks = received.size // block_len
    gains, residual = block_gains(received[skip:].reshape(n_blocks, block_len),
                                  np.asarray(reference)[skip:].reshape(n_blocks, block_len))
    times = start_time + skip + (np.arange(n_blocks) + 0.5) * block_len - 0.5
    return times, gains, residual, n_blocks * (block_len - 1)


def _correlation(lags, doppler):
    return np.sinc(2 * doppler * lags)


def wiener_interpolate(anchors, target_times, doppler, half_width=SMOOTHING_HALF_WIDTH):
    """MMSE gain at each target time from its nearest anchors (flat Doppler spectrum prior).

    Args:
        anchors: :class:`Anchors`.
        target_times: times (symbols) to estimate the gain at, increasing.
        doppler: the prior's largest normalised Doppler (fD*Ts).
        half_width: anchors used on each side of a target (the window is shifted at the ends).

    Returns:
        (complex gains, mean squared error of each), both of len(target_times).
    """
    times, gains, noise = anchors.times, anchors.gains, anchors.noise
    target_times = np.asarray(target_times, dtype=np.float64)
    n = times.size
    width = min(2 * half_width, n)
    # Signal power of the prior: the anchors' power less their noise (kept above a floor).
    power = max(float(np.mean(np.abs(gains) ** 2) - np.mean(noise)), 1e-3 * float(np.mean(noise)))
    starts = np.clip(np.searchsorted(times, target_times) - half_width, 0, n - width)
    unique_starts, window_of_target = np.unique(starts, return_inverse=True)
    windows = unique_starts[:, None] + np.arange(width)[None, :]  # (windows, width)
    # The covariance depends on the anchors' relative times and noises only: between evenly
    # spaced pilots most windows share it, so each distinct one is inverted once.
    relative = times[windows] - times[windows][:, :1]
    _, first, shape_of_window = np.unique(np.concatenate([relative, noise[windows]], axis=1), axis=0,
                                          return_index=True, return_inverse=True)
    lag = relative[first][:, :, None] - relative[first][:, None, :]
    covariance = power * _correlation(lag, doppler) + noise[windows[first]][:, None, :] * np.eye(width)
    inverse = np.linalg.inv(covariance)[shape_of_window.ravel()]
    weighted_gains = np.einsum("wij,wj->wi", inverse, gains[windows])  # C^-1 g per window
    # The targets of each window on rows of _ROW_LEN of a (rows, _ROW_LEN, width) grid, so one
    # batched matrix product serves all the targets that share a window's inverse (a window
    # shifted against the end of the anchors serves many: it gets several rows).
    counts = np.bincount(window_of_target, minlength=unique_starts.size)
    order = np.argsort(window_of_target, kind="stable")
    slot = np.empty(target_times.size, dtype=np.int64)
    slot[order] = np.arange(target_times.size) - np.repeat(np.cumsum(counts) - counts, counts)
    rows_per_window = -(-counts // _ROW_LEN)
    row_window = np.repeat(np.arange(unique_starts.size), rows_per_window)
    row = (np.cumsum(rows_per_window) - rows_per_window)[window_of_target] + slot // _ROW_LEN
    column = slot % _ROW_LEN
    grid = np.zeros((row_window.size, _ROW_LEN))
    grid[row, column] = target_times
    cross = power * _correlation(grid[:, :, None] - times[windows[row_window]][:, None, :], doppler)
    row_gains = weighted_gains[row_window]
    estimate = (np.einsum("rkj,rj->rk", cross, row_gains.real)
                + 1j * np.einsum("rkj,rj->rk", cross, row_gains.imag))[row, column]
    explained = np.sum(np.matmul(cross, inverse[row_window]) * cross, axis=2)[row, column]
    mse = power - explained
    return estimate, np.maximum(mse, 0.0)


@dataclasses.dataclass(frozen=True)
class SectionEstimate:
    """What the equaliser needs for a payload section.

    Attributes:
        gains: complex gain of each data symbol.
        noise_var: pooled N0.
        symbol_noise: N0 + the gain estimate's MSE, per data symbol (the
            noise the demapper should assume).
        doppler: the design Doppler the filter used (fD*Ts).
    """

    gains: np.ndarray
    noise_var: float
    symbol_noise: np.ndarray
    doppler: float


def pilot_anchors(section, n_data, params):
    """Anchors of the pilot blocks of a payload section, and their residual (energy, dof)."""
    positions = pilots.pilot_positions(n_data, params)
    gains, residual = block_gains(section[positions], pilots.pilot_symbols(positions.shape[0], params))
    return positions.mean(axis=1), gains, residual, positions.shape[0] * (params.length - 1)


def resolve_doppler(doppler, anchors, spacing):
    """The design Doppler: ``doppler`` itself, or with "auto" the estimate from ``anchors``
    (``doppler.estimate_doppler``, evenly spaced by ``spacing`` symbols) through
    ``doppler.design_doppler``."""
    if doppler != AUTO:
        return float(doppler)
    estimate = doppler_estimation.estimate_doppler(anchors.times, anchors.gains, anchors.noise)
    return doppler_estimation.design_doppler(estimate, spacing)


def estimate_section(section, prefix, prefix_ref, params, n_data, doppler=AUTO):
    """Per-data-symbol gains, their reliability and the pooled N0 of a payload section with pilots.

    Args:
        section: received payload section (``pilots.section_len(n_data, params)`` samples).
        prefix: the received known symbols just before the section (preamble and header).
        prefix_ref: their known transmitted symbols.
        params: ``pilots.PilotParams`` of the burst (enabled).
        n_data: data symbols in the section.
        doppler: design Doppler of the filter, or "auto" (estimated from the pilot blocks).

    Returns:
        a :class:`SectionEstimate`.

    Raises:
        ValueError: pilots disabled, a bad doppler or a section of the wrong length.
    """
    if not params.enabled:
        raise ValueError(f"estimate_section needs pilots, got {params}")
    check_doppler(doppler)
    section = np.asarray(section, dtype=np.complex128)
    expected = pilots.section_len(n_data, params)
    if section.size != expected:
        raise ValueError(f"section of {section.size} symbols, layout needs {expected}")
    known = known_blocks(prefix, prefix_ref, PREFIX_ANCHOR_LEN, -len(prefix))
    pilot = pilot_anchors(section, n_data, params)
    gains, symbol_noise, noise_var, design = _track(known, pilot, params, pilots.data_positions(n_data, params),
                                                    doppler, pool_known=pilot[3] < MIN_PILOT_DOF)
    return SectionEstimate(gains, noise_var, symbol_noise, design)


def header_estimate(preamble, header_section, doppler=AUTO):
    """Gain and noise of each header symbol, tracked through the preamble and the header's pilots.

    The header's bits are unknown until its CRC passed, so its anchors are the
    preamble (blocks of :data:`PREFIX_ANCHOR_LEN`) and the pilot blocks of the
    header section (``burst.HEADER_PILOTS``); N0 is pooled over all of them.

    Args:
        preamble: the received preamble symbols.
        header_section: the received header section (header symbols and pilots).
        doppler: design Doppler or "auto" (estimated from the header's pilot blocks).

    Returns:
        (complex gain, N0 + the gain's MSE) of each of the mapping.HEADER_SYMBOLS symbols.
    """
    check_doppler(doppler)
    params = burst.HEADER_PILOTS
    known = known_blocks(preamble, mapping.PREAMBLE, PREFIX_ANCHOR_LEN, 0)
    times, gains, residual, dof = pilot_anchors(np.asarray(header_section, dtype=np.complex128),
                                                mapping.HEADER_SYMBOLS, params)
    pilot = (times + mapping.PREAMBLE_LEN, gains, residual, dof)
    targets = mapping.PREAMBLE_LEN + pilots.data_positions(mapping.HEADER_SYMBOLS, params)
    gains, symbol_noise, _, _ = _track(known, pilot, params, targets, doppler, pool_known=True)
    return gains, symbol_noise


def _track(known, pilot, params, target_times, doppler, pool_known):
    """Wiener gains at the targets from known-block and pilot anchors.

    Args:
        known, pilot: (times, gains, residual energy, degrees of freedom) of the
            known-symbol blocks (PREFIX_ANCHOR_LEN symbols each) and of the pilot blocks.
        params: the pilot blocks' ``PilotParams``.
        target_times: where to estimate the gain.
        doppler: design Doppler or "auto" (estimated from the pilot anchors).
        pool_known: pool the known blocks' residual into N0 too.

    Returns:
        (gains, N0 + MSE per target, N0, design Doppler)
    """
    known_times, known_gains, known_residual, known_dof = known
    pilot_times, pilot_gains, residual, dof = pilot
    if pool_known:
        residual, dof = residual + known_residual, dof + known_dof
    noise_var = max(residual / max(dof, 1), MIN_NOISE_VAR)
    from_pilots = Anchors(pilot_times, pilot_gains, np.full(pilot_gains.size, noise_var / params.length))
    anchors = Anchors.join(
        Anchors(known_times, known_gains, np.full(known_gains.size, noise_var / PREFIX_ANCHOR_LEN)), from_pilots)
    design = resolve_doppler(doppler, from_pilots, params.interval + params.length)
    gains, mse = wiener_interpolate(anchors, target_times, design)
    return gains, noise_var + mse, noise_var, design
