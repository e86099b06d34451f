#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""Registry of the named LDPC codes the PHY can use.

A code name is the only thing a user picks (``phy_tx(code="n1800_k902")``);
this module turns it into the alist file for gr-fec's stock encoder/decoder
and into (n, k). All codes are the parity-check alists that GNU Radio ships in
``/usr/share/gnuradio/fec/ldpc/``. Each code also has a one-byte id that the
physical-layer header carries, so a receiver configured for another code drops
the frame instead of decoding garbage.

The low-SNR modes ``<code>x<r>`` send the same LDPC code's data symbols r times
(``repetition``): r times fewer information bits per channel symbol and a
10 log10 r dB lower Es/N0 threshold, for links that must work at 0 dB in a fade.
"""

import dataclasses
import os

#: Folder of the alists shipped by Debian's GNU Radio 3.10.
GR_LDPC_DIR = "/usr/share/gnuradio/fec/ldpc"

#: name -> (header id, alist file name, symbol repetition). The id is part of the
#: air format: never renumber an existing entry.
_REGISTRY = {
    "n1800_k902": (1, "n_1800_k_0902_gap_28.alist", 1),
    "n1100_k442": (2, "n_1100_k_0442_gap_24.alist", 1),
    "n700_k282": (3, "n_0700_k_0282_gap_16.alist", 1),
    "n500_k202": (4, "n_0500_k_0202_gap_11.alist", 1),
    "n300_k152": (5, "n_0300_k_0152_gap_03.alist", 1),
    "n1800_k902x2": (6, "n_1800_k_0902_gap_28.alist", 2),
    "n1800_k902x3": (7, "n_1800_k_0902_gap_28.alist", 3),
    "n1800_k902x4": (8, "n_1800_k_0902_gap_28.alist", 4),
}

DEFAULT_CODE = "n1800_k902"


@dataclasses.dataclass(frozen=True)
class LdpcCode:
    """One named LDPC code.

    Attributes:
        name: registry name, e.g. ``"n1800_k902"``.
        code_id: the byte sent in the physical-layer header.
        alist: absolute path of the parity-check alist file.
        n: codeword length in bits.
        k: information bits per codeword.
        repeat: times each data symbol is sent (``repetition``; 1 = plain code).
    """

    name: str
    code_id: int
    alist: str
    n: int
    k: int
    repeat: int = 1

    @property
    def rate(self):
        """Information bits per coded bit of the LDPC code itself."""
        return self.k / self.n

    @property
    def bits_per_symbol(self):
        """Information bits (CRC included) per 8-PSK data symbol, repetition included."""
        return 3 * self.k / (self.n * self.repeat)


def list_codes():
    """Names of the registered codes, default first."""
    return [DEFAULT_CODE] + sorted(n for n in _REGISTRY if n != DEFAULT_CODE)


def _read_alist_dimensions(path):
    """(n, k) of a full-rank parity-check alist: first line is "n m", k = n - m."""
    with open(path, encoding="ascii") as f:
        n, m = (int(v) for v in f.readline().split()[:2])
    return n, n - m


def get_code(name, ldpc_dir=GR_LDPC_DIR):
    """Look up a code by name.

    Args:
        name: a name from :func:`list_codes`.
        ldpc_dir: folder holding the alist files.

    Returns:
        LdpcCode

    Raises:
        ValueError: unknown name, or its alist file is missing.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown LDPC code {name!r}; choose one of {list_codes()}")
    code_id, filename, repeat = _REGISTRY[name]
    path = os.path.join(ldpc_dir, filename)
    if not os.path.isfile(path):
        raise ValueError(f"alist of code {name!r} not found at {path!r}")
    n, k = _read_alist_dimensions(path)
    return LdpcCode(name=name, code_id=code_id, alist=path, n=n, k=k, repeat=repeat)


def code_name_for_id(code_id):
    """Name of the code with header id ``code_id``, or None if unknown."""
    for name, (cid, _, _) in _REGISTRY.items():
        if cid == code_id:
            return name
    return None


def repeats_by_id(code_list):
    """{header code id: repetition} of ``code_list`` (LdpcCode s): what a burst builder or
    receiver needs to know of the codes whose bursts it handles."""
    return {code.code_id: code.repeat for code in code_list}


def repetition_modes(name, ldpc_dir=GR_LDPC_DIR):
    """Every registered code that differs from ``name`` only in its repetition: the codes one
    LDPC encoder and decoder bank serve (same alist), as {name: LdpcCode}, ``name`` included.

    Raises:
        ValueError: unknown name (see :func:`get_code`).
    """
    code = get_code(name, ldpc_dir)
    return {other: get_code(other, ldpc_dir) for other, (_, filename, _) in _REGISTRY.items()
            if os.path.join(ldpc_dir, filename) == code.alist}
