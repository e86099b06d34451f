#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Block (quasi-static) flat Rayleigh fading: one complex gain per block of samples.

A block is either a fixed number of samples (``block_len`` > 0) or one burst:
with ``block_len`` = 0 a new gain starts at every ``packet_len`` tag, i.e. at
every burst of ``phy_tx`` (fading constant over a frame, independent between
frames). The gains are the successive draws of CN(0, 1) (E|h|^2 = 1) from
``numpy.random.default_rng(seed)``, drawn when a block starts, so
:func:`block_fading_gains` reproduces exactly the gains the block applies.
"""

import numpy as np
import pmt
from gnuradio import gr

BURST_TAG = "packet_len"


def block_fading_gains(n_blocks, seed):
    """The first ``n_blocks`` gains of a block-fading channel seeded with ``seed``."""
    return BlockFadingProcess(0, seed).next_gains(n_blocks)


class BlockFadingProcess:
    """Stateful block fading applied to successive chunks of a stream.

    Args:
        block_len: samples per block (>= 1), or 0 for blocks delimited by the
            caller (``starts`` of :meth:`apply`).
        seed: seed of the gain sequence (int >= 0).
    """

    def __init__(self, block_len, seed):
        if int(block_len) < 0:
            raise ValueError(f"block_len {block_len} must be >= 0")
        if int(seed) < 0:
            raise ValueError(f"seed {seed} must be >= 0")
        self.block_len = int(block_len)
        self._rng = np.random.default_rng(int(seed))
        self._gain = None
        self._position = 0  # samples seen, for fixed-length blocks

    def next_gains(self, count):
        """Draw the next ``count`` block gains, CN(0, 1)."""
        draws = self._rng.standard_normal((count, 2))
        return ((draws[:, 0] + 1j * draws[:, 1]) / np.sqrt(2)).astype(np.complex64)

    def apply(self, samples, starts=()):
        """Multiply ``samples`` by their blocks' gains.

        Args:
            samples: complex chunk of the stream.
            starts: indices in this chunk where a new block begins (used
                when block_len == 0; ignored otherwise).
        """
        samples = np.asarray(samples, dtype=np.complex64)
        if self.block_len:
            index = np.arange(self._position, self._position + samples.size)
            starts = np.flatnonzero(index % self.block_len == 0)
            self._position += samples.size
        starts = np.unique(np.asarray(starts, dtype=np.int64))
        starts = starts[(starts >= 0) & (starts < samples.size)]
        if self._gain is None and (starts.size == 0 or starts[0] > 0):
            self._gain = self.next_gains(1)[0]  # samples before the first block start
        # gains[0] continues the current block (unused if a block starts at 0); gains[i]
        # belongs to the block starting at starts[i - 1].
        current = self._gain if self._gain is not None else np.complex64(0)
        gains = np.concatenate([[current], self.next_gains(starts.size)])
        segment = np.searchsorted(starts, np.arange(samples.size), side="right")
        self._gain = gains[-1] if starts.size else self._gain
        return samples * gains[segment]


class block_fading_cc(gr.sync_block):
    """Stream block around :class:`BlockFadingProcess` (complex in, complex out).

    Args:
        block_len: samples per fading block, 0 for one block per burst
            (``packet_len`` tags).
        seed: seed of the gains.
    """

    def __init__(self, block_len=0, seed=0):
        gr.sync_block.__init__(self, name="uoisc_block_fading_cc", in_sig=[np.complex64], out_sig=[np.complex64])
        self.process = BlockFadingProcess(block_len, seed)

    def work(self, input_items, output_items):
        n = len(output_items[0])
        starts = ()
        if not self.process.block_len:
            first = self.nitems_read(0)
            tags = self.get_tags_in_window(0, 0, n, pmt.intern(BURST_TAG))
            starts = [tag.offset - first for tag in tags]
        output_items[0][:] = self.process.apply(input_items[0][:n], starts)
        return n
