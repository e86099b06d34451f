"""The codec's own 8-byte header inside the PHY payload.

The PHY only says "this payload is semantic" or "jpeg2000"; the codec frame
says which model wrote the body, so a receiver refuses bits it would decode
into a wrong image instead of decoding them silently::

    | magic "UO" (2) | version u8 (=1) | kind u8 | fingerprint (4) | body ... |

``fingerprint`` identifies the model (see ``SemanticCodec.fingerprint``); a
codec without a model (JPEG2000) writes zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAGIC", "VERSION", "KINDS", "HEADER_BYTES", "FINGERPRINT_BYTES", "CodecFrame",
           "FrameError", "build_frame", "parse_frame"]

MAGIC = b"UO"
VERSION = 1
#: Codec kind name -> the header's kind byte.
KINDS = {"uoisc": 1, "jpeg2000": 2, "vlf": 3}
FINGERPRINT_BYTES = 4
HEADER_BYTES = len(MAGIC) + 2 + FINGERPRINT_BYTES

_KIND_NAMES = {code: name for name, code in KINDS.items()}


class FrameError(ValueError):
    """The bytes are not a codec frame this runtime reads, or the arguments are bad."""


@dataclass(frozen=True)
class CodecFrame:
    """A parsed codec frame.

    Attributes:
        kind: a key of :data:`KINDS`.
        fingerprint: the 4-byte model fingerprint.
        body: everything after the header.
    """

    kind: str
    fingerprint: bytes
    body: bytes


def build_frame(kind: str, fingerprint: bytes, body: bytes) -> bytes:
    """Header + body.

    Args:
        kind: a key of :data:`KINDS`.
        fingerprint: exactly 4 bytes.
        body: the codec's payload (packed indices, a codestream, ...).

    Raises:
        FrameError: unknown kind or a fingerprint of another length.
    """
    if kind not in KINDS:
        raise FrameError(f"kind={kind!r} is not one of {sorted(KINDS)}")
    fingerprint = bytes(fingerprint)
    if len(fingerprint) != FINGERPRINT_BYTES:
        raise FrameError(f"fingerprint {fingerprint!r} has {len(fingerprint)} bytes; "
                         f"expected {FINGERPRINT_BYTES}")
    return MAGIC + bytes((VERSION, KINDS[kind])) + fingerprint + bytes(body)


def parse_frame(data: bytes) -> CodecFrame:
    """Split a codec frame into kind, fingerprint and body.

    Raises:
        FrameError: fewer than :data:`HEADER_BYTES` bytes, wrong magic, or an
            unknown version or kind (each named with the value found).
    """
    data = bytes(data)
    if len(data) < HEADER_BYTES:
        raise FrameError(f"{len(data)} bytes are shorter than the {HEADER_BYTES}-byte codec header")
    if data[:2] != MAGIC:
        raise FrameError(f"magic {data[:2]!r} is not {MAGIC!r}: not a codec frame")
    version, kind_code = data[2], data[3]
    if version != VERSION:
        raise FrameError(f"codec frame version {version} is not supported (this runtime reads "
                         f"version {VERSION})")
    if kind_code not in _KIND_NAMES:
        raise FrameError(f"codec frame kind byte {kind_code} is unknown (known: {_KIND_NAMES})")
    return CodecFrame(_KIND_NAMES[kind_code], data[4:HEADER_BYTES], data[HEADER_BYTES:])
