#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Channel hier block: flat fading + AWGN at a set Es/N0.

Es/N0 convention (the whole PHY): the input has unit average symbol energy
(Es = 1, 1 sample per symbol); the block adds complex white Gaussian noise of
variance N0 = 10^(-esno_db/10) (``analog.noise_source_c`` with amplitude
sqrt(N0) + ``blocks.add_cc``); fading gains have E|h|^2 = 1, so ``esno_db`` is
the Es/N0 averaged over the fading. Only sync blocks: the output has exactly
as many samples as the input (no ``channel_model``, which drops samples).
"""

import numpy as np
from gnuradio import analog, blocks, channels, gr

from .block_fading import block_fading_cc

FADING_MODES = ("rayleigh", "awgn")
#: Sinusoids of the sum-of-sinusoids Doppler model.
DOPPLER_SINUSOIDS = 8


def noise_amplitude(esno_db):
    """Amplitude for ``analog.noise_source_c`` giving N0 = 10^(-esno_db/10)."""
    return float(np.sqrt(10 ** (-esno_db / 10)))


class channel(gr.hier_block2):
    """Complex in -> fading -> + AWGN -> complex out, same length.

    Args:
        esno_db: Es/N0 in dB (average over fading).
        fading: "rayleigh" (flat Rayleigh) or "awgn" (no fading).
        doppler: normalised Doppler fD*Ts; 0 gives block fading (a new gain
            every ``block_len`` samples), > 0 the continuous
            ``channels.fading_model``.
        block_len: samples per fading block when doppler == 0; 0 (default)
            draws a new gain at every burst (``packet_len`` tag of phy_tx).
        seed: int >= 0; fixes the fading and the noise (reproducible runs).
    """

    def __init__(self, esno_db=10.0, fading="rayleigh", doppler=0.0, block_len=0, seed=0):
        gr.hier_block2.__init__(self, "uoisc_channel", gr.io_signature(1, 1, gr.sizeof_gr_complex),
                                gr.io_signature(1, 1, gr.sizeof_gr_complex))
        if fading not in FADING_MODES:
            raise ValueError(f"fading {fading!r} not in {FADING_MODES}")
        if not np.isfinite(esno_db):
            raise ValueError(f"esno_db {esno_db!r} must be finite")
        if not 0 <= doppler < 0.5:
            raise ValueError(f"doppler {doppler} must be in [0, 0.5)")
        if int(seed) < 0:
            raise ValueError(f"seed {seed} must be >= 0")
        seed = int(seed)
        # gr::random treats seed 0 as "seed from the clock": keep GNU Radio seeds >= 1.
        self.noise = analog.noise_source_c(analog.GR_GAUSSIAN, noise_amplitude(esno_db), 2 * seed + 1)
        self.adder = blocks.add_cc()
        if fading == "awgn":
            self.fader = blocks.copy(gr.sizeof_gr_complex)
        elif doppler > 0:
            self.fader = channels.fading_model(DOPPLER_SINUSOIDS, float(doppler), False, 4.0, 2 * seed + 2)
        else:
            self.fader = block_fading_cc(block_len, seed)
        self.connect(self, self.fader, (self.adder, 0))
        self.connect(self.noise, (self.adder, 1))
        self.connect(self.adder, self)

    def set_esno_db(self, esno_db):
        """Change Es/N0 while running."""
        self.noise.set_amplitude(noise_amplitude(esno_db))
