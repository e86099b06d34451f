#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""PDU <-> Python conversions shared by the PHY message blocks."""

import numpy as np
import pmt


def split_pdu(msg, vector_type="u8"):
    """Metadata dict and numpy payload of a PDU ``pmt.cons(dict, vector)``.

    Args:
        msg: the received PMT.
        vector_type: expected uniform vector type: "u8", "f32" or "c32".

    Returns:
        (dict, numpy array)

    Raises:
        ValueError: not a pair, metadata not a dict (nil is an empty dict),
            or payload not a vector of the expected type.
    """
    if not pmt.is_pair(msg):
        raise ValueError(f"not a PDU (pmt pair): {pmt.write_string(msg)[:60]!r}")
    meta, vec = pmt.car(msg), pmt.cdr(msg)
    if pmt.is_null(meta):
        meta_dict = {}
    elif pmt.is_dict(meta):
        meta_dict = pmt.to_python(meta)
    else:
        raise ValueError("PDU metadata is not a dict")
    is_type = {"u8": pmt.is_u8vector, "f32": pmt.is_f32vector, "c32": pmt.is_c32vector}[vector_type]
    if not is_type(vec):
        raise ValueError(f"PDU payload is not a {vector_type} vector")
    return meta_dict, np.asarray(pmt.to_python(vec))


def make_pdu(meta, array):
    """PDU from a dict (Python scalars, complex, str, numpy arrays) and a numpy array."""
    return pmt.cons(pmt.to_pmt(meta), pmt.to_pmt(np.ascontiguousarray(array)))
