"""The semantic codec at run time: images (+ queries) <-> codec frames, on onnxruntime.

:class:`SemanticCodec` wraps one loaded :class:`~uoisc_runtime.bundle.Bundle`
(sessions created once, reused for every call). The sender turns an image and
its query into a codec frame (``frame`` header + ``packing`` of the indices);
the receiver turns the received bytes, with the PHY's per-byte reliability,
back into an image, counting the indices it had to guess. A bundle whose
decoder learned an "erased" token (codec.json ``erasure_index`` = K) gets index
K wherever the PHY marked the bits unreliable, instead of the wrong received bits.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from uoisc_runtime import frame
from uoisc_runtime.bundle import Bundle, BundleError, load_bundle
from uoisc_runtime.packing import erased_indices, pack_indices, packed_bytes, unpack_indices
from uoisc_runtime.preprocess import ImageLike, to_model_input, to_uint8_image
from uoisc_runtime.tokenizer import tokenizer_for

__all__ = ["CodecError", "DecodeResult", "SemanticCodec", "erasure_index_of", "frame_bytes"]

_log = logging.getLogger(__name__)


def frame_bytes(spec: dict) -> int:
    """Bytes of one codec frame of the bundle whose (validated) codec.json is ``spec``:
    the codec header plus the packed indices."""
    return frame.HEADER_BYTES + packed_bytes(math.prod(spec["indices_shape"]), spec["bits_per_index"])


def erasure_index_of(spec: dict) -> int | None:
    """The decoder's "erased" index from codec.json, or None when the bundle has none.

    The field is optional (bundles exported before erasure-aware decoding lack it).
    When present it must be ``codebook_size``: the row after the K codewords.

    Raises:
        BundleError: ``erasure_index`` present but not the integer K.
    """
    if "erasure_index" not in spec:
        return None
    value = spec["erasure_index"]
    if isinstance(value, bool) or not isinstance(value, int) or value != spec["codebook_size"]:
        raise BundleError(f"codec.json field 'erasure_index'={value!r} must equal "
                          f"'codebook_size'={spec['codebook_size']!r}")
    return value


class CodecError(ValueError):
    """A frame from another model, a frame of the wrong size, or bad encoder/decoder input."""


#: How error messages name the codec kinds of ``frame.KINDS``.
_KIND_NAMES = {"uoisc": "UO-ISC", "vlf": "VLF", "jpeg2000": "JPEG2000"}


def check_received_frame(data: Any, byte_ok: np.ndarray | None, payload_bytes: int, kind: str,
                         model_id: str, fingerprint: bytes) -> tuple[bytes, np.ndarray, bool]:
    """The checks every codec runs on a received frame before reading its body.

    Args:
        data: the frame as received (bytes-like or a uint8 array).
        byte_ok: one bool per byte, False where the PHY knows the byte is unreliable
            (failed codeword CRC); ``None`` = all reliable.
        payload_bytes: the frame length of this codec.
        kind: this codec's ``frame.KINDS`` name.
        model_id, fingerprint: this codec's model.

    Returns:
        ``(data as bytes, byte reliability as a bool array, header_trusted)``. A header
        with an unreliable byte is not checked (header_trusted False): a flipped header
        bit must not cost the whole image when the length says the frame is ours.

    Raises:
        CodecError: not bytes, the wrong length, a ``byte_ok`` of another length, or a
            reliable header that is not a frame, or of another codec kind or model.
    """
    name = _KIND_NAMES.get(kind, kind)
    if not isinstance(data, (bytes, bytearray, memoryview, np.ndarray)):
        raise CodecError(f"frame of type {type(data).__name__}; expected bytes")
    data = bytes(data)
    if len(data) != payload_bytes:
        raise CodecError(f"frame of {len(data)} bytes; {model_id} frames are {payload_bytes} bytes")
    ok = np.ones(len(data), bool) if byte_ok is None else np.asarray(byte_ok, bool).reshape(-1)
    if ok.size != len(data):
        raise CodecError(f"byte_ok has {ok.size} entries for a {len(data)}-byte frame")
    trusted = bool(ok[:frame.HEADER_BYTES].all())
    if trusted:
        try:
            parsed = frame.parse_frame(data)
        except frame.FrameError as error:
            raise CodecError(f"not a {name} frame: {error}") from error
        if parsed.kind != kind:
            raise CodecError(f"frame of codec kind {parsed.kind!r}; this is a {name} decoder")
        if parsed.fingerprint != fingerprint:
            raise CodecError(f"frame from another model (fingerprint {parsed.fingerprint.hex()}, "
                             f"{model_id} is {fingerprint.hex()})")
    return data, ok, trusted


@dataclass(frozen=True)
class DecodeResult:
    """What :meth:`SemanticCodec.decode` recovered from one frame.

    Attributes:
        image: ``S x S x 3`` uint8 reconstruction.
        indices: int64 ``L x T x G`` indices that were decoded (folded into range).
        n_folded: received words ``>= K`` that were folded (``word % K``).
        n_erased: indices with at least one bit in a byte the PHY marked unreliable.
        header_trusted: False when the codec header's bytes were unreliable, so the
            model check was skipped and the frame was decoded on its length alone.
        n_replaced: erased indices the decoder read as its "erased" token
            (``n_erased`` with an erasure-aware bundle, else 0: decoded as received).
    """

    image: np.ndarray
    indices: np.ndarray
    n_folded: int
    n_erased: int
    header_trusted: bool
    n_replaced: int = 0


class SemanticCodec:
    """UO-ISC encoder/decoder over one model bundle.

    Args:
        bundle: a loaded bundle (see :func:`~uoisc_runtime.bundle.load_bundle`).
    """

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self._tokenizer = tokenizer_for(bundle.spec) if bundle.needs_query else None
        self._erasure_index = erasure_index_of(bundle.spec)
        self._warned_ignored_query = False

    @classmethod
    def from_path(cls, path: str | Path, providers: Sequence[str] | None = None,
                  intra_op_threads: int = 0) -> "SemanticCodec":
        """Load a bundle folder (checked, see ``load_bundle``) and wrap it."""
        return cls(load_bundle(path, providers=providers, intra_op_threads=intra_op_threads))

    # ---- what the model is ----------------------------------------------------
    @property
    def model_id(self) -> str:
        return str(self.bundle.spec["model_id"])

    @property
    def fingerprint(self) -> bytes:
        """4 bytes in every frame header; see ``bundle.model_fingerprint``."""
        return self.bundle.fingerprint

    @property
    def indices_shape(self) -> tuple[int, int, int]:
        return self.bundle.indices_shape

    @property
    def n_indices(self) -> int:
        return math.prod(self.bundle.indices_shape)

    @property
    def bits_per_index(self) -> int:
        return self.bundle.bits_per_index

    @property
    def codebook_size(self) -> int:
        return self.bundle.codebook_size

    @property
    def erasure_index(self) -> int | None:
        """K when the decoder has the learned "erased" row, else None (see ``erasure_index_of``)."""
        return self._erasure_index

    @property
    def payload_bytes(self) -> int:
        """Bytes of one frame: the codec header plus the packed indices."""
        return frame_bytes(self.bundle.spec)

    @property
    def needs_query(self) -> bool:
        return self.bundle.needs_query

    @property
    def image_size(self) -> int:
        return self.bundle.image_size

    # ---- arrays ---------------------------------------------------------------
    def _token_ids(self, queries: Sequence[str] | None, n_images: int) -> np.ndarray | None:
        if not self.needs_query:
            if queries is not None and not self._warned_ignored_query:
                _log.debug("%s has no text alignment: queries are ignored", self.model_id)
                self._warned_ignored_query = True
            return None
        if queries is None:
            raise CodecError(f"{self.model_id} aligns with a query: pass one query per image")
        if isinstance(queries, str) or len(queries) != n_images:
            raise CodecError(f"queries={queries!r}: expected a sequence of {n_images} strings, "
                             "one per image")
        return self._tokenizer(list(queries))

    def encode_indices(self, images: Sequence[ImageLike], queries: Sequence[str] | None = None,
                       batch_size: int = 8) -> np.ndarray:
        """Codebook indices of a batch of images.

        Args:
            images: arrays, PIL images or paths (see ``preprocess.to_model_input``).
            queries: one text per image when the model needs a query; ignored otherwise.
            batch_size: images per onnxruntime call.

        Returns:
            int64 ``N x L x T x G``.

        Raises:
            CodecError: missing or miscounted queries, bad ``batch_size``.
            PreprocessError: an image that cannot be model input.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise CodecError(f"batch_size={batch_size!r} must be a positive integer")
        images = list(images)
        token_ids = self._token_ids(queries, len(images))
        pixels = np.stack([to_model_input(im, self.image_size) for im in images]) if images \
            else np.zeros((0, 3, self.image_size, self.image_size), np.float32)
        chunks = []
        for start in range(0, len(images), batch_size):
            feeds = {"image": pixels[start:start + batch_size]}
            if token_ids is not None:
                feeds["token_ids"] = token_ids[start:start + batch_size]
            chunks.append(self.bundle.encoder.run(["indices"], feeds)[0])
        if not chunks:
            return np.zeros((0, *self.indices_shape), np.int64)
        return np.concatenate(chunks).astype(np.int64, copy=False)

    def decode_indices(self, indices: np.ndarray, erased: np.ndarray | None = None) -> np.ndarray:
        """Images from indices ``N x L x T x G`` (each in ``[0, K)``): uint8 ``N x S x S x 3``.

        Args:
            indices: the received indices.
            erased: optional bool mask of the same shape, True where the PHY marked
                an index unreliable. An erasure-aware bundle decodes those as its
                "erased" token (index K, which is accepted this way only); other
                bundles decode them as received.

        Raises:
            CodecError: wrong shape, non-integer dtype, an index outside ``[0, K)``,
                or an ``erased`` mask of another shape.
        """
        indices = np.asarray(indices)
        if indices.ndim != 4 or indices.shape[1:] != self.indices_shape:
            raise CodecError(f"indices of shape {indices.shape}; expected N x "
                             f"{' x '.join(map(str, self.indices_shape))}")
        if not np.issubdtype(indices.dtype, np.integer):
            raise CodecError(f"indices of dtype {indices.dtype}; expected integers")
        if indices.size and (indices.min() < 0 or indices.max() >= self.codebook_size):
            raise CodecError(f"indices span [{indices.min()}, {indices.max()}]; the codebook "
                             f"has {self.codebook_size} entries")
        if erased is not None:
            erased = np.asarray(erased, bool)
            if erased.shape != indices.shape:
                raise CodecError(f"erased mask of shape {erased.shape}; indices are {indices.shape}")
            if self._erasure_index is not None:
                indices = np.where(erased, self._erasure_index, indices)
        if indices.shape[0] == 0:
            return np.zeros((0, self.image_size, self.image_size, 3), np.uint8)
        (images,) = self.bundle.decoder.run(["image"], {"indices": indices.astype(np.int64)})
        return np.stack([to_uint8_image(chw) for chw in images])

    # ---- frames ---------------------------------------------------------------
    def encode(self, image: ImageLike, query: str | None = None) -> bytes:
        """One image (and its query) as a codec frame: header + packed indices."""
        queries = None if query is None else [query]
        indices = self.encode_indices([image], queries)[0]
        return frame.build_frame("uoisc", self.fingerprint,
                                 pack_indices(indices, self.bits_per_index))

    def decode(self, data: bytes, byte_ok: np.ndarray | None = None) -> DecodeResult:
        """One codec frame (as received) back to an image.

        Args:
            data: the frame bytes (``payload_bytes`` long; bytes-like or a uint8 array).
            byte_ok: one bool per byte of ``data``, False where the PHY knows the
                byte is unreliable (failed codeword CRC); ``None`` = all reliable.

        Raises:
            CodecError: a frame that is not bytes or has the wrong length, a
                ``byte_ok`` of the wrong length, or a reliable header from another
                codec or model.
        """
        data, ok, trusted = check_received_frame(data, byte_ok, self.payload_bytes, "uoisc",
                                                  self.model_id, self.fingerprint)
        body = data[frame.HEADER_BYTES:]
        indices, folded = unpack_indices(body, self.n_indices, self.bits_per_index,
                                         self.codebook_size)
        erased = erased_indices(ok, frame.HEADER_BYTES, self.n_indices, self.bits_per_index)
        grid = indices.reshape(self.indices_shape)
        image = self.decode_indices(grid[None], erased.reshape(1, *self.indices_shape))[0]
        n_erased = int(erased.sum())
        n_replaced = n_erased if self._erasure_index is not None else 0
        return DecodeResult(image, grid, int(folded.sum()), n_erased, trusted, n_replaced)
