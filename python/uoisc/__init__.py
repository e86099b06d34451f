#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""gr-uoisc: user-oriented image semantic coding inside GNU Radio.

Sub-packages mirror the block roles (and the folders of grc/):

- ``phy``: framing, LDPC + 8-PSK transmitter, fading channel and receiver.
- ``codec``: semantic (UO-ISC bundle on onnxruntime) and JPEG2000 encoder/decoder
  blocks between image PDUs and the PHY's payload PDUs.
"""
