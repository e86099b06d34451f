#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""What the codec blocks read from and write to PDU metadata (dicts and numpy, no flowgraph).

Kept apart from the blocks so the rules (which keys travel with the bits, how
per-codeword CRC flags become per-byte reliability, how a decode is labelled)
are tested without a flowgraph.
"""

import numbers

import numpy as np

from ..io.image_pdu import SHAPE_KEYS

#: Image PDU keys the encoders carry into the bits PDU (the PHY carries only ``seq``
#: over the air; the others are for taps and loopback tests on the TX side).
CARRIED_KEYS = ("seq", "image_id", "query", "index")
#: ``providers`` value that lets onnxruntime pick CUDA when available, else CPU.
AUTO_PROVIDERS = "auto"


def parse_providers(providers):
    """onnxruntime execution providers from a block argument.

    Args:
        providers: "auto" (None: CUDA when available, else CPU) or a
            comma-separated list such as "CUDAExecutionProvider,CPUExecutionProvider".

    Returns:
        None or a list of provider names (availability is checked by the bundle loader).

    Raises:
        ValueError: not a string, or a list with an empty name.
    """
    if not isinstance(providers, str):
        raise ValueError(f"providers {providers!r} must be 'auto' or a comma-separated string")
    if providers.strip() == AUTO_PROVIDERS:
        return None
    names = [name.strip() for name in providers.split(",")]
    if not all(names):
        raise ValueError(f"providers {providers!r} holds an empty name; use 'auto' or e.g. "
                         "'CPUExecutionProvider'")
    return names


def check_intra_op_threads(value):
    """``intra_op_threads`` as an int >= 0 (0 = onnxruntime's default).

    Raises:
        ValueError: not a non-negative integer.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"intra_op_threads {value!r} must be an integer >= 0")
    return int(value)


def bits_meta(image_meta, **codec_fields):
    """Metadata of a bits PDU: the carried image keys plus the codec's fields.

    Args:
        image_meta: metadata of the image PDU that was encoded.
        **codec_fields: ``payload_type``, ``model_id``, ``codec_kind``, ... (they win
            over carried keys of the same name, e.g. the query actually used).
    """
    meta = {key: image_meta[key] for key in CARRIED_KEYS if key in image_meta}
    meta.update(codec_fields)
    return meta


def query_to_encode(meta, default_query, needs_query, model_id):
    """The query an encoder block encodes an image PDU with: its ``query`` meta, else
    ``default_query``.

    Args:
        meta: metadata of the image PDU.
        default_query: the block's query for PDUs that carry none ("" = none).
        needs_query: the bundle modulates by the query (text alignment).
        model_id: the bundle's name, for the error message.

    Raises:
        ValueError: ``query`` meta that is not a string, or no query at all for a bundle
            that needs one.
    """
    query = meta.get("query", "")
    if not isinstance(query, str):
        raise ValueError(f"meta 'query' {query!r} is not a string")
    query = query or default_query
    if needs_query and not query:
        raise ValueError(f"{model_id} needs a query: the PDU has none and default_query is empty")
    return query


def check_payload_type(meta, expected):
    """Refuse a PDU whose PHY header names another codec (that header is CRC-protected,
    so it is a reliable early check, e.g. when two codecs share one link).

    A PDU without ``payload_type`` (not from a PHY) passes.

    Raises:
        ValueError: ``payload_type`` present and not ``expected``.
    """
    payload_type = meta.get("payload_type", expected)
    if payload_type != expected:
        raise ValueError(f"payload_type {payload_type!r} is not {expected!r}: another codec's frame")


def _int_field(meta, key):
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"PHY meta {key!r} must be a positive integer, got {value!r}")
    return int(value)


def byte_reliability(meta, n_bytes):
    """Per-byte reliability of a received payload from the PHY's CRC flags.

    Byte b of the payload travelled in codeword ``b // cw_data_bytes``; it is
    reliable when that codeword passed its CRC.

    Args:
        meta: PHY output metadata (``cw_crc_ok``, ``cw_data_bytes``); a PDU without
            ``cw_crc_ok`` did not cross a PHY (e.g. encoder wired straight to the
            decoder) and counts as reliable.
        n_bytes: payload length.

    Returns:
        None when every byte is reliable, else a bool array of ``n_bytes``.

    Raises:
        ValueError: flags that are not a vector, a missing or bad ``cw_data_bytes``, or
            too few codewords for ``n_bytes`` bytes.
    """
    if "cw_crc_ok" not in meta:
        return None
    crc_ok = np.asarray(meta["cw_crc_ok"])
    flag_dtype = crc_ok.dtype == bool or np.issubdtype(crc_ok.dtype, np.integer)
    if crc_ok.ndim != 1 or crc_ok.size == 0 or not flag_dtype:
        raise ValueError(f"PHY meta 'cw_crc_ok' must be a non-empty vector of 0/1 flags, got {crc_ok!r}")
    per_codeword = _int_field(meta, "cw_data_bytes")
    if crc_ok.size * per_codeword < n_bytes:
        raise ValueError(f"{crc_ok.size} codewords of {per_codeword} bytes cannot carry a "
                         f"{n_bytes}-byte payload")
    if crc_ok.all():
        return None
    return np.repeat(crc_ok.astype(bool), per_codeword)[:n_bytes]


def semantic_decode_status(header_trusted, n_erased):
    """Label of a semantic decode: "untrusted_header" (the codec header's bytes were
    unreliable), "erasures" (some indices lay in failed codewords) or "ok"."""
    if not header_trusted:
        return "untrusted_header"
    return "erasures" if n_erased else "ok"


def decoded_meta(phy_meta, **decoder_fields):
    """Metadata of a decoded image PDU: the PHY metadata kept, plus the decoder's fields.

    ``image_id`` and ``query`` cannot be known by a receiver (the PHY carries only
    ``seq``): they become "" unless the incoming PDU already had them. Shape keys
    of the input are left out (the image PDU sets them from the decoded image).
    """
    meta = {key: value for key, value in phy_meta.items() if key not in SHAPE_KEYS}
    meta.setdefault("image_id", "")
    meta.setdefault("query", "")
    meta.update(decoder_fields)
    return meta
