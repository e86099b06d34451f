#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""UO-ISC encoder block: image PDU (+ query) -> bits PDU (codec frame of packed indices)."""

import numpy as np

from uoisc_runtime.codec import SemanticCodec

from ..io.image_pdu import parse_image_pdu
from ..phy.pdu_util import make_pdu
from . import link_meta
from .pdu_block import pdu_block


class semantic_encoder(pdu_block):
    """Encode each image PDU with an exported UO-ISC bundle (ONNX, loaded once).

    The query comes from the PDU's ``query`` meta, else ``default_query``; a
    bundle with text alignment (``needs_query``) drops an image with neither,
    with a logged error. Output PDU: the codec frame (8-byte header with the
    model fingerprint + indices packed MSB first) of ``codec.payload_bytes``
    bytes, with the image's ``seq``, ``image_id``, ``index``, the ``query``
    used, and ``payload_type="semantic"``, ``model_id``, ``codec_kind="uoisc"``,
    ``n_indices``, ``bits_per_index``, ``n_bits`` (8 × payload bytes).

    Subclasses for other codecs with the same interface (``from_path``,
    ``encode``, ``needs_query``, ``n_indices``, ...) only set the class
    attributes below, e.g. :class:`vlf_encoder`.

    Args:
        model_path: model bundle folder (``encoder.onnx``, ``decoder.onnx``,
            ``codec.json``); a missing or invalid bundle raises at construction.
        providers: "auto" (CUDA when available, else CPU) or a comma-separated
            list of onnxruntime execution providers.
        intra_op_threads: onnxruntime threads per session (0 = its default).
        default_query: query for images whose PDU carries none ("" = none).
    """

    #: The runtime codec class that loads the bundle.
    CODEC = SemanticCodec
    #: The PHY header's payload type and the ``codec_kind`` meta of the output.
    PAYLOAD_TYPE, CODEC_KIND = "semantic", "uoisc"

    def __init__(self, model_path, providers=link_meta.AUTO_PROVIDERS, intra_op_threads=0, default_query=""):
        if not isinstance(default_query, str):
            raise ValueError(f"default_query {default_query!r} must be a string")
        pdu_block.__init__(self, type(self).__name__)
        self.codec = self.CODEC.from_path(model_path, providers=link_meta.parse_providers(providers),
                                          intra_op_threads=link_meta.check_intra_op_threads(intra_op_threads))
        self.default_query = default_query
        self.logger.info(f"{self.codec.model_id}: {self.codec.n_indices} indices x "
                         f"{self.codec.bits_per_index} bits, {self.codec.payload_bytes} bytes per image")

    def transform(self, msg):
        meta, image = parse_image_pdu(msg)
        query = link_meta.query_to_encode(meta, self.default_query, self.codec.needs_query, self.codec.model_id)
        data = self.codec.encode(image, query if self.codec.needs_query else None)
        out_meta = link_meta.bits_meta(
            meta, query=query, payload_type=self.PAYLOAD_TYPE, model_id=self.codec.model_id, codec_kind=self.CODEC_KIND,
            n_indices=self.codec.n_indices, bits_per_index=self.codec.bits_per_index, n_bits=8 * len(data))
        return make_pdu(out_meta, np.frombuffer(data, dtype=np.uint8))
