#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Image I/O blocks: a source of image PDUs (files or generated scenes) and a
sink that writes reconstructions, references and per-image JSON records."""

from .image_pdu import image_pdu, parse_image_pdu
from .image_sink import image_sink
from .image_source import image_source
