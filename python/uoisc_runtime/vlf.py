"""The VLF-MSC codec at run time: image (+ query) -> one quantised feature -> caption + image.

:class:`VlfCodec` wraps one :class:`~uoisc_runtime.vlf_bundle.VlfBundle` (four onnxruntime
sessions, created once). The sender sends ``G`` integers per image (the quantised CLIP
embedding) in a codec frame of kind ``"vlf"``; the receiver looks the feature up and
generates both a caption (greedy, ``vlf_caption``) and an image (DDIM + classifier-free
guidance, ``vlf_ddim``). Every received word is a valid index (``n_levels`` is a power of
two for the shipped geometries; otherwise words fold), so bit errors degrade the feature and
never stop the receiver.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from uoisc_runtime import frame
from uoisc_runtime.codec import CodecError, check_received_frame, frame_bytes
from uoisc_runtime.packing import erased_indices, pack_indices, unpack_indices
from uoisc_runtime.preprocess import ImageLike, to_model_input, to_uint8_image
from uoisc_runtime.tokenizer import tokenizer_for
from uoisc_runtime.vlf_bundle import VlfBundle, load_vlf_bundle
from uoisc_runtime.vlf_caption import onnx_greedy_decode, tokens_to_text
from uoisc_runtime.vlf_ddim import ddim_sample, initial_noise, resize_bilinear, session_denoiser

__all__ = ["VlfCodec", "VlfReceived", "VlfDecodeResult"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VlfReceived:
    """What :meth:`VlfCodec.receive` recovered from one frame.

    Attributes:
        indices: int64 ``G`` indices (folded into range).
        feature: float32 ``E`` dequantised feature.
        n_folded: received words ``>= n_levels`` that were folded (``word % n_levels``).
        n_erased: indices with at least one bit in a byte the PHY marked unreliable.
        header_trusted: False when the header's bytes were unreliable (not checked).
    """

    indices: np.ndarray
    feature: np.ndarray
    n_folded: int
    n_erased: int
    header_trusted: bool


@dataclass(frozen=True)
class VlfDecodeResult:
    """Caption and image generated from one frame (see :meth:`VlfCodec.decode`).

    Attributes:
        caption: the greedy caption.
        image: uint8 ``output_size x output_size x 3`` generated image.
        indices, feature, n_folded, n_erased, header_trusted: as :class:`VlfReceived`.
    """

    caption: str
    image: np.ndarray
    indices: np.ndarray
    feature: np.ndarray
    n_folded: int
    n_erased: int
    header_trusted: bool


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise CodecError(f"{name}={value!r} must be a positive integer")


class VlfCodec:
    """VLF-MSC sender and receiver over one VLF bundle.

    Args:
        bundle: a loaded bundle (see :func:`~uoisc_runtime.vlf_bundle.load_vlf_bundle`).
    """

    def __init__(self, bundle: VlfBundle):
        self.bundle = bundle
        self._tokenizer = tokenizer_for(bundle.spec) if bundle.needs_query else None
        self._denoise = session_denoiser(bundle.denoiser)
        self._alpha_bar = np.asarray(bundle.denoiser_spec["alpha_bar"], dtype=np.float64)

    @classmethod
    def from_path(cls, path: str | Path, providers: Sequence[str] | None = None,
                  intra_op_threads: int = 0) -> "VlfCodec":
        """Load a VLF bundle folder (checked, see ``load_vlf_bundle``) and wrap it."""
        return cls(load_vlf_bundle(path, providers=providers, intra_op_threads=intra_op_threads))

    # ---- what the model is ----------------------------------------------------
    @property
    def spec(self) -> dict[str, Any]:
        return self.bundle.spec

    @property
    def model_id(self) -> str:
        return str(self.spec["model_id"])

    @property
    def fingerprint(self) -> bytes:
        """4 bytes in every frame header: ``sha256(model_id + ":" + dequantizer sha256)[:4]``."""
        return self.bundle.fingerprint

    @property
    def n_indices(self) -> int:
        """G, the integers sent per image."""
        return int(self.spec["indices_shape"][0])

    @property
    def bits_per_index(self) -> int:
        return int(self.spec["bits_per_index"])

    @property
    def n_levels(self) -> int:
        """Values each sent integer takes (K for VQ, 2^b for the scalar quantiser)."""
        return int(self.spec["n_levels"])

    @property
    def payload_bytes(self) -> int:
        """Bytes of one frame: the codec header plus the packed indices."""
        return frame_bytes(self.spec)

    @property
    def needs_query(self) -> bool:
        return self.bundle.needs_query

    @property
    def image_size(self) -> int:
        """Side of the encoder's input images."""
        return int(self.spec["image_size"])

    @property
    def output_size(self) -> int:
        """Side of the generated images."""
        return int(self.spec["generator"]["output_size"])

    @property
    def embed_dim(self) -> int:
        """E, the width of the dequantised feature."""
        return int(self.spec["embed_dim"])

    # ---- sender -----------------------------------------------------------------
    def _token_ids(self, queries: Sequence[str] | None, n_images: int) -> np.ndarray | None:
        if self._tokenizer is None:
            return None   # without query modulation the encoder has no token input
        if queries is None or isinstance(queries, str) or len(queries) != n_images:
            raise CodecError(f"{self.model_id} modulates by a query: queries={queries!r} must be "
                             f"a sequence of {n_images} strings")
        return self._tokenizer(list(queries))

    def encode_indices(self, images: Sequence[ImageLike], queries: Sequence[str] | None = None,
                       batch_size: int = 8) -> np.ndarray:
        """Indices of a batch of images: int64 ``N x G``.

        Args:
            images: arrays, PIL images or paths (see ``preprocess.to_model_input``).
            queries: one text per image when the bundle modulates by a query; ignored otherwise.
            batch_size: images per onnxruntime call.

        Raises:
            CodecError: missing or miscounted queries, bad ``batch_size``.
            PreprocessError: an image that cannot be model input.
        """
        _check_positive_int("batch_size", batch_size)
        images = list(images)
        token_ids = self._token_ids(queries, len(images))
        indices = np.zeros((len(images), self.n_indices), np.int64)
        for start in range(0, len(images), batch_size):
            chunk = slice(start, start + batch_size)
            feeds = {"image": np.stack([to_model_input(im, self.image_size) for im in images[chunk]])}
            if token_ids is not None:
                feeds["token_ids"] = token_ids[chunk]
            indices[chunk] = self.bundle.encoder.run(["indices"], feeds)[0]
        return indices

    def encode(self, image: ImageLike, query: str | None = None) -> bytes:
        """One image (and its query) as a codec frame: header of kind ``"vlf"`` + packed indices."""
        indices = self.encode_indices([image], None if query is None else [query])[0]
        return frame.build_frame("vlf", self.fingerprint, pack_indices(indices, self.bits_per_index))

    # ---- receiver -----------------------------------------------------------------
    def receive(self, data: bytes, byte_ok: np.ndarray | None = None) -> VlfReceived:
        """One codec frame (as received) -> indices and dequantised feature.

        Args:
            data: the frame bytes (``payload_bytes`` long; bytes-like or a uint8 array).
            byte_ok: one bool per byte, False where the PHY knows the byte is unreliable;
                ``None`` = all reliable. An unreliable header is not checked.

        Raises:
            CodecError: not bytes, the wrong length, a ``byte_ok`` of another length, or a
                reliable header of another codec kind or model.
        """
        data, ok, trusted = check_received_frame(data, byte_ok, self.payload_bytes, "vlf",
                                                  self.model_id, self.fingerprint)
        indices, folded = unpack_indices(data[frame.HEADER_BYTES:], self.n_indices,
                                         self.bits_per_index, self.n_levels)
        erased = erased_indices(ok, frame.HEADER_BYTES, self.n_indices, self.bits_per_index)
        feature = self.dequantize(indices[None])[0]
        return VlfReceived(indices, feature, int(folded.sum()), int(erased.sum()), trusted)

    def dequantize(self, indices: np.ndarray) -> np.ndarray:
        """Features of indices ``N x G`` (each in ``[0, n_levels)``): float32 ``N x E``.

        Raises:
            CodecError: wrong shape, non-integer dtype, or an index out of range.
        """
        indices = np.asarray(indices)
        if indices.ndim != 2 or indices.shape[1] != self.n_indices:
            raise CodecError(f"indices of shape {indices.shape}; expected N x {self.n_indices}")
        if not np.issubdtype(indices.dtype, np.integer):
            raise CodecError(f"indices of dtype {indices.dtype}; expected integers")
        if indices.size and (indices.min() < 0 or indices.max() >= self.n_levels):
            raise CodecError(f"indices span [{indices.min()}, {indices.max()}]; the quantiser has "
                             f"{self.n_levels} levels")
        if len(indices) == 0:
            return np.zeros((0, self.embed_dim), np.float32)
        return self.bundle.dequantizer.run(["feature"], {"indices": indices.astype(np.int64)})[0]

    def _features(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.embed_dim:
            raise CodecError(f"features of shape {features.shape}; expected N x {self.embed_dim}")
        if not np.all(np.isfinite(features)):
            raise CodecError("features hold NaN or inf")
        return features

    def caption(self, features: np.ndarray) -> list[str]:
        """Greedy caption of each feature ``N x E`` (onnxruntime; tokens equal torch's greedy)."""
        spec = self.bundle.caption_spec
        tokens = onnx_greedy_decode(self.bundle.caption_decoder, self._features(features), spec)
        return [tokens_to_text(row, spec["vocabulary"], spec["special_ids"]) for row in tokens]

    def generate(self, features: np.ndarray, seeds: Sequence[int], steps: int = 10,
                 guidance: float = 3.0) -> np.ndarray:
        """One image per feature: DDIM + classifier-free guidance around ``denoiser.onnx``.

        Args:
            features: ``N x E`` received features.
            seeds: one non-negative integer per image; image ``i`` starts from the noise of
                ``np.random.default_rng(seeds[i])`` (same seed, same image, in any batch).
            steps: DDIM steps (denoiser calls; one call on 2N rows when ``guidance != 1``).
            guidance: classifier-free guidance scale ``w >= 0`` (1 = conditional only).

        Returns:
            uint8 ``N x output_size x output_size x 3``.

        Raises:
            CodecError: bad features, seeds, steps or guidance.
        """
        features = self._features(features)
        seeds = list(seeds)
        if len(seeds) != len(features):
            raise CodecError(f"{len(seeds)} seeds for {len(features)} features; pass one per image")
        _check_positive_int("steps", steps)
        if isinstance(guidance, bool) or not isinstance(guidance, (int, float, np.floating)) \
                or not math.isfinite(guidance) or guidance < 0:
            raise CodecError(f"guidance={guidance!r} must be a finite number >= 0")
        sample_size = self.spec["generator"]["sample_size"]
        try:
            x_T = initial_noise(seeds, sample_size)
            samples = ddim_sample(self._denoise, self._alpha_bar, features, x_T, steps, float(guidance))
        except ValueError as error:   # steps > T, a negative seed: say it as the codec's error
            raise CodecError(str(error)) from error
        images = resize_bilinear(samples, self.output_size)
        return np.stack([to_uint8_image(chw) for chw in images]) if len(images) \
            else np.zeros((0, self.output_size, self.output_size, 3), np.uint8)

    def decode(self, data: bytes, byte_ok: np.ndarray | None = None, seed: int = 0, steps: int = 10,
               guidance: float = 3.0) -> VlfDecodeResult:
        """One frame -> caption and generated image (see :meth:`receive` and :meth:`generate`)."""
        received = self.receive(data, byte_ok)
        feature = received.feature[None]
        image = self.generate(feature, [seed], steps=steps, guidance=guidance)[0]
        return VlfDecodeResult(self.caption(feature)[0], image, received.indices, received.feature,
                               received.n_folded, received.n_erased, received.header_trusted)
