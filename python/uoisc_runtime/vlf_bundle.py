"""Load and validate a VLF-MSC model bundle (``codec.json`` with ``"mode": "vlf"``).

One folder is one hash-checked artefact (fields in ``docs/vlf.md``, "Bundle"):

- ``vlf_encoder.onnx``: image [+ token_ids] -> indices (int64 ``N x G``);
- ``vlf_dequantizer.onnx``: indices -> feature (float32 ``N x E``);
- ``caption_decoder.onnx`` + ``caption.json``: the text receiver (``vlf_caption``);
- ``denoiser.onnx`` + ``denoiser.json``: the image receiver (``vlf_ddim``).

codec.json lists the last two under ``caption_decoder`` and ``generator`` with the sha256 of
the graph *and* of its JSON (the vocabulary and the ``alpha_bar`` table decide what comes
out as much as the weights). :func:`load_vlf_bundle` refuses, with a :class:`BundleError`
naming the field, any missing or tampered file, inconsistent geometry (``G x bits_per_index
!= bits_per_image``, ``bits_per_index != ceil(log2 n_levels)``) or a receiver whose feature
width is not the dequantizer's ``embed_dim``: a silent mismatch would caption noise.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnxruntime as ort

from uoisc_runtime.bundle import (FORMAT_VERSION, VLF_MODE, BundleError, check_file_hash, check_session,
                                  check_type, model_fingerprint, open_checked_session, read_spec,
                                  select_providers, session_options)

__all__ = ["VlfBundle", "load_vlf_bundle", "validate_vlf_spec"]

_log = logging.getLogger(__name__)

_REQUIRED: dict[str, tuple[type, ...]] = {
    "format_version": (int,), "mode": (str,), "model_id": (str,), "backbone": (str,),
    "image_size": (int,), "embed_dim": (int,), "quantizer": (str,), "n_levels": (int,),
    "bits_per_index": (int,), "indices_shape": (list,), "bits_per_image": (int,),
    "text_alignment": (bool,), "preprocessing": (dict,), "tokenizer": (dict,),
    "encoder": (dict,), "dequantizer": (dict,), "caption_decoder": (dict,), "generator": (dict,),
    "parity": (dict,),
}
_GRAPH_KEYS = {"file": (str,), "sha256": (str,), "inputs": (dict,), "outputs": (dict,)}
_RECEIVER_KEYS = {
    "caption_decoder": {"file": (str,), "sha256": (str,), "spec_file": (str,), "spec_sha256": (str,),
                        "embed_dim": (int,), "max_len": (int,)},
    "generator": {"file": (str,), "sha256": (str,), "spec_file": (str,), "spec_sha256": (str,),
                  "feature_dim": (int,), "sample_size": (int,), "output_size": (int,)},
}
_QUANTIZERS = ("vq", "scalar")


def _check_fields(prefix: str, values: dict, required: dict[str, tuple[type, ...]]) -> None:
    for key, types in required.items():
        where = f"{prefix}{key}"
        if key not in values:
            raise BundleError(f"codec.json misses the required field {where!r}")
        check_type(where, values[key], types)


def _check_positive(spec: dict, *fields: str) -> None:
    for field in fields:
        section, _, key = field.rpartition(".")
        value = spec[section][key] if section else spec[field]
        if value < 1:
            raise BundleError(f"codec.json field {field!r}={value!r} must be >= 1")


def validate_vlf_spec(spec: dict[str, Any]) -> None:
    """Check a VLF codec.json's keys, types and geometry (no files touched).

    Raises:
        BundleError: naming the first offending field.
    """
    if spec.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"codec.json field 'format_version' is {spec.get('format_version')!r}; "
                          f"this runtime reads version {FORMAT_VERSION} only")
    _check_fields("", spec, _REQUIRED)
    for graph in ("encoder", "dequantizer"):
        _check_fields(f"{graph}.", spec[graph], _GRAPH_KEYS)
    for receiver, keys in _RECEIVER_KEYS.items():
        _check_fields(f"{receiver}.", spec[receiver], keys)
    if spec["quantizer"] not in _QUANTIZERS:
        raise BundleError(f"codec.json field 'quantizer' is {spec['quantizer']!r}; expected one of "
                          f"{_QUANTIZERS}")
    _check_positive(spec, "image_size", "embed_dim", "bits_per_index", "caption_decoder.max_len",
                    "generator.sample_size", "generator.output_size")
    if spec["n_levels"] < 2:
        raise BundleError(f"codec.json field 'n_levels'={spec['n_levels']!r} must be >= 2")
    shape = spec["indices_shape"]
    if len(shape) != 1 or isinstance(shape[0], bool) or not isinstance(shape[0], int) or shape[0] < 1:
        raise BundleError(f"codec.json field 'indices_shape'={shape!r} must be [G], G >= 1")
    expected_bits = math.ceil(math.log2(spec["n_levels"]))
    if spec["bits_per_index"] != expected_bits:
        raise BundleError(f"codec.json field 'bits_per_index'={spec['bits_per_index']} but "
                          f"'n_levels'={spec['n_levels']} needs ceil(log2 n_levels)={expected_bits}")
    if spec["bits_per_image"] != shape[0] * spec["bits_per_index"]:
        raise BundleError(f"codec.json field 'bits_per_image'={spec['bits_per_image']} is not "
                          f"G ({shape[0]}) x bits_per_index ({spec['bits_per_index']})")
    for field in ("caption_decoder.embed_dim", "generator.feature_dim"):
        section, key = field.split(".")
        if spec[section][key] != spec["embed_dim"]:
            raise BundleError(f"codec.json field {field!r}={spec[section][key]} differs from "
                              f"'embed_dim'={spec['embed_dim']}, the dequantizer's feature width")
    context = spec["tokenizer"].get("context_length")
    if spec["text_alignment"] and (isinstance(context, bool) or not isinstance(context, int)
                                   or context < 1):
        raise BundleError(f"codec.json field 'tokenizer.context_length'={context!r} must be a "
                          "positive integer")
    _check_graph_io(spec)


def _check_graph_io(spec: dict) -> None:
    """The declared encoder/dequantizer inputs and outputs must agree with the geometry."""
    size, indices = spec["image_size"], {"dtype": "int64", "shape": ["batch", *spec["indices_shape"]]}
    expected = {
        "encoder": ({"image": {"dtype": "float32", "shape": ["batch", 3, size, size]}},
                    {"indices": indices}),
        "dequantizer": ({"indices": indices},
                        {"feature": {"dtype": "float32", "shape": ["batch", spec["embed_dim"]]}}),
    }
    if spec["text_alignment"]:
        expected["encoder"][0]["token_ids"] = {
            "dtype": "int64", "shape": ["batch", spec["tokenizer"]["context_length"]]}
    for graph, sides in expected.items():
        for side, want in zip(("inputs", "outputs"), sides):
            if spec[graph][side] != want:
                raise BundleError(f"codec.json field '{graph}.{side}'={spec[graph][side]!r}; the "
                                  f"geometry fields imply {want!r}")


def _read_receiver_spec(folder: Path, spec: dict, receiver: str) -> dict[str, Any]:
    """The receiver's own JSON (caption.json / denoiser.json), hash-checked and parsed."""
    declared = spec[receiver]
    path = check_file_hash(folder / declared["spec_file"], f"{receiver}.spec", declared["spec_sha256"])
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BundleError(f"{path} is not valid JSON: {error}") from error


def _check_caption_spec(spec: dict, caption: dict) -> None:
    declared = spec["caption_decoder"]
    for key, want in (("embed_dim", spec["embed_dim"]), ("max_len", declared["max_len"])):
        if caption.get(key) != want:
            raise BundleError(f"{declared['spec_file']} field {key!r}={caption.get(key)!r} but "
                              f"codec.json's caption_decoder/embed_dim say {want}")
    if caption.get("graph", {}).get("sha256") != declared["sha256"]:
        raise BundleError(f"{declared['spec_file']} describes another graph than codec.json field "
                          "'caption_decoder.sha256'")
    ids, vocabulary = caption.get("special_ids", {}), caption.get("vocabulary")
    if not isinstance(vocabulary, list) or not all(
            isinstance(ids.get(k), int) and 0 <= ids[k] < len(vocabulary) for k in ("pad", "bos", "eos", "unk")):
        raise BundleError(f"{declared['spec_file']} field 'vocabulary'/'special_ids' is incomplete")


def _check_denoiser_spec(spec: dict, denoiser: dict) -> None:
    declared = spec["generator"]
    config = denoiser.get("diffusion_config", {})
    for key, field in (("feature_dim", "feature_dim"), ("sample_size", "sample_size"),
                       ("image_size", "output_size")):
        if config.get(key) != declared[field]:
            raise BundleError(f"{declared['spec_file']} diffusion_config.{key}={config.get(key)!r} "
                              f"but codec.json field 'generator.{field}' says {declared[field]}")
    if denoiser.get("sha256") != declared["sha256"]:
        raise BundleError(f"{declared['spec_file']} describes another graph than codec.json field "
                          "'generator.sha256'")
    alpha_bar = np.asarray(denoiser.get("alpha_bar", []), dtype=np.float64)
    if alpha_bar.ndim != 1 or alpha_bar.size != config.get("timesteps") \
            or not np.all((alpha_bar > 0) & (alpha_bar <= 1)):
        raise BundleError(f"{declared['spec_file']} field 'alpha_bar' must hold "
                          f"diffusion_config.timesteps={config.get('timesteps')!r} values in (0, 1]")


def _check_receiver_io(receiver: str, session: ort.InferenceSession, expected: dict) -> None:
    """Receiver graph inputs/outputs: names and non-batch axes as its JSON implies."""
    for side, args in (("inputs", session.get_inputs()), ("outputs", session.get_outputs())):
        actual = {arg.name: [d if isinstance(d, int) else "batch" for d in arg.shape] for arg in args}
        if actual != expected[side]:
            raise BundleError(f"{receiver} graph {side} are {actual}; codec.json and its JSON "
                              f"imply {expected[side]}")


@dataclass(frozen=True)
class VlfBundle:
    """A validated VLF bundle with its four onnxruntime sessions.

    Attributes:
        path: the bundle folder.
        spec: the parsed codec.json.
        encoder: image [, token_ids] -> indices.
        dequantizer: indices -> feature.
        caption_decoder: (feature, tokens) -> log_probs; ``caption_spec`` is its caption.json.
        denoiser: (x, t, feature, uncond) -> eps; ``denoiser_spec`` is its denoiser.json.
        providers: the execution providers the sessions use.
    """

    path: Path
    spec: dict[str, Any]
    encoder: ort.InferenceSession
    dequantizer: ort.InferenceSession
    caption_decoder: ort.InferenceSession
    caption_spec: dict[str, Any]
    denoiser: ort.InferenceSession
    denoiser_spec: dict[str, Any]
    providers: tuple[str, ...]

    @property
    def fingerprint(self) -> bytes:
        """See :func:`uoisc_runtime.bundle.model_fingerprint` (hashes the dequantizer)."""
        return model_fingerprint(self.spec)

    @property
    def needs_query(self) -> bool:
        return bool(self.spec["text_alignment"])


def load_vlf_bundle(path: str | Path, providers: Sequence[str] | None = None,
                    intra_op_threads: int = 0) -> VlfBundle:
    """Validate a VLF bundle folder and open its four sessions (once; reuse the bundle).

    Args:
        path: the bundle folder.
        providers: onnxruntime execution providers in order; ``None`` = CUDA when
            available, else CPU.
        intra_op_threads: threads per session (0 = onnxruntime's default).

    Raises:
        BundleError: a UO-ISC folder, or anything missing, inconsistent or tampered
            with, naming the field or file.
    """
    path = Path(path)
    options = session_options(intra_op_threads)
    spec = read_spec(path)
    if spec.get("mode") != VLF_MODE:
        raise BundleError(f"{path} is a {spec.get('mode', 'uoisc')!r} bundle (codec.json field "
                          "'mode'): use uoisc_runtime.SemanticCodec / load_bundle")
    caption_spec = _read_receiver_spec(path, spec, "caption_decoder")
    _check_caption_spec(spec, caption_spec)
    denoiser_spec = _read_receiver_spec(path, spec, "generator")
    _check_denoiser_spec(spec, denoiser_spec)
    chosen = select_providers(providers)
    sessions = {graph: open_checked_session(path, graph, spec[graph], options, chosen)
                for graph in ("encoder", "dequantizer", "caption_decoder", "generator")}
    for graph in ("encoder", "dequantizer"):
        check_session(graph, sessions[graph], spec[graph])
    embed, max_len, size = spec["embed_dim"], spec["caption_decoder"]["max_len"], \
        spec["generator"]["sample_size"]
    _check_receiver_io("caption_decoder", sessions["caption_decoder"], {
        "inputs": {"feature": ["batch", embed], "tokens": ["batch", max_len]},
        "outputs": {"log_probs": ["batch", max_len, len(caption_spec["vocabulary"])]}})
    _check_receiver_io("generator", sessions["generator"], {
        "inputs": {"x": ["batch", 3, size, size], "t": ["batch"], "feature": ["batch", embed],
                   "uncond": ["batch"]},
        "outputs": {"eps": ["batch", 3, size, size]}})
    _log.info("loaded VLF bundle %s (%s, %d indices x %d bits) on %s", path, spec["model_id"],
              spec["indices_shape"][0], spec["bits_per_index"], chosen)
    return VlfBundle(path, spec, sessions["encoder"], sessions["dequantizer"],
                     sessions["caption_decoder"], caption_spec, sessions["generator"], denoiser_spec,
                     tuple(sessions["encoder"].get_providers()))
