#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""UO-ISC decoder block: PHY output PDU -> image PDU, erasing indices of failed codewords."""

from uoisc_runtime.codec import SemanticCodec

from ..io.image_pdu import image_pdu
from ..phy.pdu_util import split_pdu
from . import link_meta
from .pdu_block import pdu_block


class semantic_decoder(pdu_block):
    """Decode received codec frames with an exported UO-ISC bundle (ONNX, loaded once).

    The PHY's ``cw_crc_ok`` and ``cw_data_bytes`` say which payload bytes are
    unreliable; indices with a bit in such a byte are counted as erased and
    decoded from what arrived. Output: an image PDU with the PHY meta kept,
    plus ``model_id``, ``n_erased_indices``, ``n_folded_indices`` (received
    words beyond the codebook, folded into range), ``n_replaced_indices``
    (erased indices read as the decoder's learned "erased" row, when the
    bundle has one: ``erasure_index`` in codec.json), ``header_trusted`` and
    ``decode_status``: "ok", "erasures" (some indices erased) or
    "untrusted_header" (the codec header's bytes failed their CRC; decoded
    anyway because the length matched). ``image_id``/``query`` are "" unless
    the input had them. Logged drops: not a u8 PDU, a PHY payload_type other
    than "semantic", empty payload, bad CRC
    metadata, a frame from another model (fingerprint mismatch in a reliable
    header), a body of the wrong length.

    Args:
        model_path: model bundle folder; a missing or invalid bundle raises at
            construction.
        providers: "auto" (CUDA when available, else CPU) or a comma-separated
            list of onnxruntime execution providers.
        intra_op_threads: onnxruntime threads per session (0 = its default).
    """

    def __init__(self, model_path, providers=link_meta.AUTO_PROVIDERS, intra_op_threads=0):
        pdu_block.__init__(self, "semantic_decoder")
        self.codec = SemanticCodec.from_path(model_path, providers=link_meta.parse_providers(providers),
                                             intra_op_threads=link_meta.check_intra_op_threads(intra_op_threads))

    def transform(self, msg):
        meta, payload = split_pdu(msg, "u8")
        link_meta.check_payload_type(meta, "semantic")
        if payload.size == 0:
            raise ValueError("empty payload")
        byte_ok = link_meta.byte_reliability(meta, payload.size)
        result = self.codec.decode(payload.tobytes(), byte_ok)
        status = link_meta.semantic_decode_status(result.header_trusted, result.n_erased)
        if status != "ok":
            self.logger.debug(f"seq {meta.get('seq')}: {status}, {result.n_erased}/{self.codec.n_indices} "
                              "indices erased")
        out_meta = link_meta.decoded_meta(
            meta, model_id=self.codec.model_id, n_erased_indices=int(result.n_erased),
            n_folded_indices=int(result.n_folded), n_replaced_indices=int(result.n_replaced),
            header_trusted=bool(result.header_trusted), decode_status=status)
        return image_pdu(result.image, **out_meta)
