"""The UO-ISC codec runtime: numpy + onnxruntime + Pillow only (no torch, no GNU Radio).

- ``bundle``: load and validate an exported model bundle (``encoder.onnx``,
  ``decoder.onnx``, ``codec.json``), one onnxruntime session per graph;
- ``codec``: :class:`SemanticCodec`, images (+ queries) <-> codec frames;
- ``frame``: the 8-byte codec header (magic, version, kind, model fingerprint);
- ``packing``: indices <-> MSB-first bytes, folding, erased indices;
- ``preprocess``: images -> encoder input, decoder output -> uint8 images;
- ``tokenizer``: CLIP's BPE tokenizer without torch;
- ``jpeg2000``: the JPEG2000 baseline codec;
- ``vlf``: :class:`VlfCodec`, the VLF-MSC codec (one quantised feature per image, caption and
  image generated at the receiver), over ``vlf_bundle`` (bundle loading), ``vlf_caption``
  (greedy captions) and ``vlf_ddim`` (DDIM sampling).

The API and the bit order are described in ``docs/runtime.md``.
"""

from uoisc_runtime.bundle import (FORMAT_VERSION, Bundle, BundleError, load_bundle,
                                  model_fingerprint, select_providers, sha256_file)
from uoisc_runtime.codec import CodecError, DecodeResult, SemanticCodec
from uoisc_runtime.frame import CodecFrame, FrameError, build_frame, parse_frame
from uoisc_runtime.packing import PackingError, erased_indices, pack_indices, unpack_indices
from uoisc_runtime.preprocess import PreprocessError, to_model_input, to_uint8_image
from uoisc_runtime.tokenizer import ClipTokenizer, TokenizerError, tokenizer_for
from uoisc_runtime.vlf import VlfCodec, VlfDecodeResult, VlfReceived
from uoisc_runtime.vlf_bundle import VlfBundle, load_vlf_bundle

__all__ = ["FORMAT_VERSION", "Bundle", "BundleError", "load_bundle", "model_fingerprint",
           "select_providers", "sha256_file", "CodecError", "DecodeResult", "SemanticCodec",
           "CodecFrame", "FrameError", "build_frame", "parse_frame", "PackingError",
           "erased_indices", "pack_indices", "unpack_indices", "PreprocessError",
           "to_model_input", "to_uint8_image", "ClipTokenizer", "TokenizerError", "tokenizer_for",
           "VlfCodec", "VlfDecodeResult", "VlfReceived", "VlfBundle", "load_vlf_bundle"]
