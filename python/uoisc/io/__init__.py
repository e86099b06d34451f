#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Image I/O blocks: a source of image PDUs (files or generated scenes) and a
sink that writes reconstructions, references and per-image JSON records."""

from .image_pdu import image_pdu, parse_image_pdu
