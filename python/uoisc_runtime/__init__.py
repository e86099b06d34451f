"""The UO-ISC codec runtime: numpy + onnxruntime only (no torch, no GNU Radio).

``bundle`` loads and validates an exported model bundle (``encoder.onnx``,
``decoder.onnx``, ``codec.json``) and opens one onnxruntime session per graph.
"""

from uoisc_runtime.bundle import (FORMAT_VERSION, Bundle, BundleError, load_bundle,
                                  select_providers, sha256_file)

__all__ = ["FORMAT_VERSION", "Bundle", "BundleError", "load_bundle", "select_providers",
           "sha256_file"]
