#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""VLF-MSC decoder block: PHY output PDU -> generated image PDU + caption text PDU."""

import math
import numbers

import numpy as np

from uoisc_runtime.vlf import VlfCodec

from ..io.image_pdu import image_pdu
from ..phy.pdu_util import make_pdu, split_pdu
from . import link_meta
from .pdu_block import pdu_block


def _is_int(value):
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


def check_generator_arguments(steps, guidance, seed):
    """The image generator's block arguments as (int, float, int).

    Raises:
        ValueError: ``steps`` not an integer >= 1, ``guidance`` not a finite number >= 0,
            or ``seed`` not an integer >= 0 (each names the bad value).
    """
    if not _is_int(steps) or steps < 1:
        raise ValueError(f"steps {steps!r} must be an integer >= 1")
    if isinstance(guidance, bool) or not isinstance(guidance, numbers.Real) \
            or not math.isfinite(guidance) or guidance < 0:
        raise ValueError(f"guidance {guidance!r} must be a finite number >= 0")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed {seed!r} must be an integer >= 0")
    return int(steps), float(guidance), int(seed)


class vlf_decoder(pdu_block):
    """Receive VLF feature frames: a caption and a generated image per frame (ONNX, loaded once).

    The PHY's ``cw_crc_ok`` and ``cw_data_bytes`` say which payload bytes are
    unreliable; indices with a bit in such a byte are counted as erased and
    dequantised as received (any received word is a valid codeword, or is
    folded into range), so bit errors change the feature, never stop the
    decode. The feature goes to the caption decoder (greedy) and to the
    diffusion generator (DDIM, ``steps`` steps, classifier-free ``guidance``,
    initial noise from the seed ``seed + seq``: the same frame always gives
    the same image).

    Outputs, one PDU on each port per accepted frame (published together, so
    they match by ``seq``):

    - "image": image PDU of the generated image with the PHY meta kept, plus
      ``model_id``, ``caption``, ``n_erased_indices``, ``n_folded_indices``,
      ``header_trusted``, ``decode_status`` ("ok", "erasures" or
      "untrusted_header", as :class:`semantic_decoder`) and ``generator_seed``;
      ``image_id``/``query`` are "" unless the input had them.
    - "text": the caption as a UTF-8 u8vector, meta ``seq``, ``caption``,
      ``model_id``, ``decode_status``.

    Logged drops: not a u8 PDU, a PHY payload_type other than "vlf", no
    integer ``seq`` (it seeds the generator), empty payload, bad CRC metadata,
    a frame of another model or kind (reliable header), a frame of the wrong
    length.

    Args:
        model_path: VLF bundle folder; a missing, tampered or UO-ISC bundle raises
            ValueError at construction.
        providers: "auto" (CUDA when available, else CPU) or a comma-separated
            list of onnxruntime execution providers.
        intra_op_threads: onnxruntime threads per session (0 = its default).
        steps: DDIM steps of the image generator (>= 1; each costs one network
            call, two with guidance != 1).
        guidance: classifier-free guidance weight (1 = conditional only).
        seed: base seed of the generator's initial noise (>= 0).
    """

    OUT_PORTS = ("image", "text")

    def __init__(self, model_path, providers=link_meta.AUTO_PROVIDERS, intra_op_threads=0,
                 steps=10, guidance=3.0, seed=0):
        self.steps, self.guidance, self.seed = check_generator_arguments(steps, guidance, seed)
        pdu_block.__init__(self, "vlf_decoder")
        self.codec = VlfCodec.from_path(model_path, providers=link_meta.parse_providers(providers),
                                        intra_op_threads=link_meta.check_intra_op_threads(intra_op_threads))
        self.logger.info(f"{self.codec.model_id}: {self.codec.payload_bytes}-byte frames -> caption + "
                         f"{self.codec.output_size}x{self.codec.output_size} image ({self.steps} DDIM steps, "
                         f"guidance {self.guidance})")

    def transform(self, msg):
        meta, payload = split_pdu(msg, "u8")
        link_meta.check_payload_type(meta, "vlf")
        seq = meta.get("seq")
        if not _is_int(seq) or seq < 0:
            raise ValueError(f"meta 'seq' {seq!r} must be an integer >= 0: it seeds the image generator")
        if payload.size == 0:
            raise ValueError("empty payload")
        byte_ok = link_meta.byte_reliability(meta, payload.size)
        generator_seed = self.seed + seq
        result = self.codec.decode(payload.tobytes(), byte_ok, seed=generator_seed, steps=self.steps,
                                   guidance=self.guidance)
        status = link_meta.semantic_decode_status(result.header_trusted, result.n_erased)
        if status != "ok":
            self.logger.debug(f"seq {seq}: {status}, {result.n_erased}/{self.codec.n_indices} indices erased")
        image_meta = link_meta.decoded_meta(
            meta, model_id=self.codec.model_id, caption=result.caption,
            n_erased_indices=int(result.n_erased), n_folded_indices=int(result.n_folded),
            header_trusted=bool(result.header_trusted), decode_status=status, generator_seed=generator_seed)
        text_meta = {"seq": seq, "caption": result.caption, "model_id": self.codec.model_id,
                     "decode_status": status}
        text = np.frombuffer(result.caption.encode("utf-8"), dtype=np.uint8)
        return image_pdu(result.image, **image_meta), make_pdu(text_meta, text)
