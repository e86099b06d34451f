#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""VLF-MSC encoder block: image PDU (+ query) -> bits PDU (one quantised CLIP feature)."""

import numpy as np

from uoisc_runtime.vlf import VlfCodec

from ..io.image_pdu import parse_image_pdu
from ..phy.pdu_util import make_pdu
from . import link_meta
from .pdu_block import pdu_block


class vlf_encoder(pdu_block):
    """Encode each image PDU into one VLF feature frame (ONNX bundle, loaded once).

    VLF-MSC sends one vision-language feature per image (the pooled CLIP image
    embedding, quantised to G integers) instead of UO-ISC's feature maps; the
    receiver generates a caption and an image from it (:class:`vlf_decoder`).
    The query comes from the PDU's ``query`` meta, else ``default_query``; it
    is used only by a query-modulated bundle (``needs_query``), which drops an
    image with neither, with a logged error. Output PDU: the codec frame
    (8-byte header of kind "vlf" with the model fingerprint + indices packed
    MSB first) of ``codec.payload_bytes`` bytes, with the image's ``seq``,
    ``image_id``, ``index``, the ``query``, and ``payload_type="vlf"``,
    ``model_id``, ``codec_kind="vlf"``, ``n_indices``, ``bits_per_index``,
    ``n_bits`` (8 x payload bytes).

    Args:
        model_path: VLF bundle folder (``codec.json`` with ``"mode": "vlf"``, the
            encoder, dequantiser, caption decoder and denoiser graphs); a missing,
            tampered or UO-ISC bundle raises ValueError at construction.
        providers: "auto" (CUDA when available, else CPU) or a comma-separated
            list of onnxruntime execution providers.
        intra_op_threads: onnxruntime threads per session (0 = its default).
        default_query: query for images whose PDU carries none ("" = none).
    """

    def __init__(self, model_path, providers=link_meta.AUTO_PROVIDERS, intra_op_threads=0, default_query=""):
        if not isinstance(default_query, str):
            raise ValueError(f"default_query {default_query!r} must be a string")
        pdu_block.__init__(self, "vlf_encoder")
        self.codec = VlfCodec.from_path(model_path, providers=link_meta.parse_providers(providers),
                                        intra_op_threads=link_meta.check_intra_op_threads(intra_op_threads))
        self.default_query = default_query
        self.logger.info(f"{self.codec.model_id}: {self.codec.n_indices} indices x "
                         f"{self.codec.bits_per_index} bits, {self.codec.payload_bytes} bytes per image")

    def transform(self, msg):
        meta, image = parse_image_pdu(msg)
        query = link_meta.query_to_encode(meta, self.default_query, self.codec.needs_query, self.codec.model_id)
        data = self.codec.encode(image, query if self.codec.needs_query else None)
        out_meta = link_meta.bits_meta(
            meta, query=query, payload_type="vlf", model_id=self.codec.model_id, codec_kind="vlf",
            n_indices=self.codec.n_indices, bits_per_index=self.codec.bits_per_index, n_bits=8 * len(data))
        return make_pdu(out_meta, np.frombuffer(data, dtype=np.uint8))
