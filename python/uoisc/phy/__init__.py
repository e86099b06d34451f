#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Physical layer: LDPC + Gray 8-PSK bursts through a flat-fading channel.

Hier blocks: :class:`phy_tx`, :class:`channel`, :class:`phy_rx`. Plain modules
usable without a flowgraph: ``framing``, ``codes``, ``theory``, ``mapping``,
``demapper``, ``estimator``, ``sync``, ``receiver``, ``block_fading``,
``pilots`` (pilot layout), ``pilot_estimator``, ``interleaver``, ``burst``.
See docs/phy.md for the frame format and the Es/N0 definition.
"""

import importlib.util

from .channel import channel
from .phy_rx import phy_rx
from .phy_tx import phy_tx

# The RRC air modem is a separate change; import it only when its module exists
# (a real error inside it must still surface).
if importlib.util.find_spec(f"{__name__}.air") is not None:
    from .air import air_demodulator, air_modulator  # noqa: F401
