#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""VLF-MSC encoder block: image PDU (+ query) -> bits PDU (one quantised CLIP feature)."""

from uoisc_runtime.vlf import VlfCodec

from .semantic_encoder import semantic_encoder


class vlf_encoder(semantic_encoder):
    """Encode each image PDU into one VLF feature frame (ONNX bundle, loaded once).

    VLF-MSC sends one vision-language feature per image (the pooled CLIP image
    embedding, quantised to G integers) instead of UO-ISC's feature maps; the
    receiver generates a caption and an image from it (:class:`vlf_decoder`).
    Everything else is :class:`semantic_encoder`'s: the query comes from the
    PDU's ``query`` meta, else ``default_query``, and is used only by a
    query-modulated bundle (``needs_query``), which drops an image with
    neither, with a logged error. Output PDU: the codec frame (8-byte header
    of kind "vlf" with the model fingerprint + indices packed MSB first) of
    ``codec.payload_bytes`` bytes, with the image's ``seq``, ``image_id``,
    ``index``, the ``query``, and ``payload_type="vlf"``, ``model_id``,
    ``codec_kind="vlf"``, ``n_indices``, ``bits_per_index``, ``n_bits``
    (8 x payload bytes).

    Arguments as :class:`semantic_encoder`'s, with ``model_path`` a VLF bundle
    folder (``codec.json`` with ``"mode": "vlf"``, the encoder, dequantiser,
    caption decoder and denoiser graphs): a missing, tampered or UO-ISC bundle
    raises ValueError at construction.
    """

    CODEC = VlfCodec
    PAYLOAD_TYPE, CODEC_KIND = "vlf", "vlf"
