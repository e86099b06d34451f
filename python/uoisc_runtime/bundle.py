"""Load and validate a UO-ISC model bundle (written by ``python -m uoisc_train.export``).

A bundle is a folder with ``encoder.onnx``, ``decoder.onnx`` and ``codec.json``
(field by field in ``docs/training.md``). :func:`load_bundle` refuses, with a
:class:`BundleError` naming the field, any bundle whose codec.json has another
format version, a missing key or a wrong type, inconsistent geometry
(``indices_shape`` vs layers/tokens/segments, ``bits_per_index`` vs ``K``), a
file whose sha256 differs from the recorded one, or ONNX graphs whose input and
output names, element types and shapes differ from codec.json. A silent
mismatch would decode wrong images; a loud one costs a message.

codec.json's ``mode`` tells the two bundle kinds apart: absent (or ``"uoisc"``) is the
UO-ISC layout above; ``"vlf"`` is validated by :mod:`uoisc_runtime.vlf_bundle` and loaded
with ``load_vlf_bundle`` (``load_bundle`` refuses it, naming the mode).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import onnxruntime as ort

__all__ = ["FORMAT_VERSION", "SPEC_FILE", "UOISC_MODE", "VLF_MODE", "Bundle", "BundleError",
           "load_bundle", "read_spec", "validate_spec", "model_fingerprint", "select_providers",
           "sha256_file", "session_options", "check_file_hash", "open_checked_session"]

_log = logging.getLogger(__name__)

#: The only codec.json layout this runtime understands.
FORMAT_VERSION = 1
SPEC_FILE = "codec.json"
#: codec.json's ``mode``: absent means UO-ISC; ``"vlf"`` is read by ``uoisc_runtime.vlf_bundle``.
UOISC_MODE, VLF_MODE = "uoisc", "vlf"

# key -> accepted Python types of codec.json's top level.
_REQUIRED: dict[str, tuple[type, ...]] = {
    "format_version": (int,), "model_id": (str,), "backbone": (str,), "image_size": (int,),
    "layers": (list,), "segment_length": (int,), "codebook_size": (int,),
    "bits_per_index": (int,), "indices_shape": (list,), "bits_per_image": (int,),
    "text_alignment": (bool,), "preprocessing": (dict,), "tokenizer": (dict,),
    "encoder": (dict,), "decoder": (dict,), "parity": (dict,),
}
_GRAPH_KEYS = {"file": (str,), "sha256": (str,), "inputs": (dict,), "outputs": (dict,)}
_ONNX_TYPES = {"float32": "tensor(float)", "int64": "tensor(int64)"}


class BundleError(ValueError):
    """The bundle is incomplete, inconsistent or tampered with."""


def select_providers(preferred: Sequence[str] | None = None) -> list[str]:
    """onnxruntime execution providers: ``preferred`` if given (each must be available),
    else CUDA when available, then CPU.
    """
    available = ort.get_available_providers()
    if preferred is not None:
        missing = [p for p in preferred if p not in available]
        if missing or not preferred:
            raise BundleError(f"providers {list(preferred)!r}: {missing or 'empty list'} not "
                              f"available (available: {available})")
        return list(preferred)
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _receiver_graph(spec: dict[str, Any]) -> str:
    """The graph that must match the sender's codebooks: UO-ISC's decoder, VLF's dequantizer."""
    return "dequantizer" if spec.get("mode", UOISC_MODE) == VLF_MODE else "decoder"


def model_fingerprint(spec: dict[str, Any]) -> bytes:
    """4 bytes naming a model on the air: ``sha256(model_id + ":" + decoder sha256)[:4]``
    (the dequantizer's sha256 for a VLF bundle).

    The decoder's hash is in it because the decoder is what must match the sender's
    codebooks; the model id separates bundles that share a decoder file.
    """
    text = f"{spec['model_id']}:{spec[_receiver_graph(spec)]['sha256']}"
    return hashlib.sha256(text.encode()).digest()[:4]


def check_type(where: str, value: Any, types: tuple[type, ...]) -> None:
    """BundleError unless the codec.json field ``where`` has one of ``types``."""
    # bool is an int in Python; a JSON true must not pass for a number.
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        names = "/".join(t.__name__ for t in types)
        raise BundleError(f"codec.json field {where!r} is {value!r} ({type(value).__name__}); "
                          f"expected {names}")


def _check_positive_ints(where: str, values: list) -> None:
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise BundleError(f"codec.json field {where!r}={values!r} must be a non-empty list "
                          "of positive integers")


def validate_spec(spec: Any) -> None:
    """Check codec.json's version, keys, types and geometry (no files touched); a VLF
    spec (``mode: "vlf"``) is checked by ``vlf_bundle.validate_vlf_spec``.

    Raises:
        BundleError: naming the first offending field.
    """
    if not isinstance(spec, dict):
        raise BundleError(f"codec.json must hold a JSON object, got {type(spec).__name__}")
    mode = spec.get("mode", UOISC_MODE)
    if mode == VLF_MODE:
        from uoisc_runtime.vlf_bundle import validate_vlf_spec  # it imports this module
        validate_vlf_spec(spec)
        return
    if mode != UOISC_MODE:
        raise BundleError(f"codec.json field 'mode' is {mode!r}; this runtime reads "
                          f"{UOISC_MODE!r} (the default) and {VLF_MODE!r}")
    if spec.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"codec.json field 'format_version' is {spec.get('format_version')!r}; "
                          f"this runtime reads version {FORMAT_VERSION} only")
    for key, types in _REQUIRED.items():
        if key not in spec:
            raise BundleError(f"codec.json misses the required field {key!r}")
        check_type(key, spec[key], types)
    for graph in ("encoder", "decoder"):
        for key, types in _GRAPH_KEYS.items():
            if key not in spec[graph]:
                raise BundleError(f"codec.json misses the required field '{graph}.{key}'")
            check_type(f"{graph}.{key}", spec[graph][key], types)
    _check_positive_ints("layers", spec["layers"])
    _check_positive_ints("indices_shape", spec["indices_shape"])
    for key in ("image_size", "segment_length", "codebook_size", "bits_per_index"):
        if spec[key] < 1:
            raise BundleError(f"codec.json field {key!r}={spec[key]!r} must be >= 1")
    layers, tokens, segments = _unpack_indices_shape(spec["indices_shape"])
    if layers != len(spec["layers"]):
        raise BundleError(f"codec.json field 'indices_shape'={spec['indices_shape']} has {layers} "
                          f"layers but 'layers'={spec['layers']} lists {len(spec['layers'])}")
    if math.isqrt(tokens) ** 2 != tokens:
        raise BundleError(f"codec.json field 'indices_shape'={spec['indices_shape']}: "
                          f"{tokens} tokens is not a square grid")
    expected_bits = max(1, math.ceil(math.log2(spec["codebook_size"])))
    if spec["bits_per_index"] != expected_bits:
        raise BundleError(f"codec.json field 'bits_per_index'={spec['bits_per_index']} but "
                          f"'codebook_size'={spec['codebook_size']} needs ceil(log2 K)={expected_bits}")
    if spec["bits_per_image"] != layers * tokens * segments * spec["bits_per_index"]:
        raise BundleError(f"codec.json field 'bits_per_image'={spec['bits_per_image']} is not "
                          f"indices ({layers}x{tokens}x{segments}) x bits_per_index "
                          f"({spec['bits_per_index']})")
    context = spec["tokenizer"].get("context_length")
    if spec["text_alignment"] and (isinstance(context, bool) or not isinstance(context, int)
                                   or context < 1):
        raise BundleError(f"codec.json field 'tokenizer.context_length'={context!r} must be a "
                          "positive integer")
    _check_graph_io(spec)


def _unpack_indices_shape(shape: list) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise BundleError(f"codec.json field 'indices_shape'={shape!r} must be "
                          "[layers, tokens, segments]")
    return shape[0], shape[1], shape[2]


def _check_graph_io(spec: dict) -> None:
    """The declared graph inputs/outputs must agree with the geometry fields."""
    size, indices = spec["image_size"], ["batch", *spec["indices_shape"]]
    expected = {
        ("encoder", "inputs", "image"): ("float32", ["batch", 3, size, size]),
        ("encoder", "outputs", "indices"): ("int64", indices),
        ("decoder", "inputs", "indices"): ("int64", indices),
        ("decoder", "outputs", "image"): ("float32", ["batch", 3, size, size]),
    }
    if spec["text_alignment"]:
        expected[("encoder", "inputs", "token_ids")] = (
            "int64", ["batch", spec["tokenizer"]["context_length"]])
    for (graph, side, name), (dtype, shape) in expected.items():
        declared = spec[graph][side]
        where = f"{graph}.{side}.{name}"
        if name not in declared:
            raise BundleError(f"codec.json misses the required field {where!r}")
        if declared[name] != {"dtype": dtype, "shape": shape}:
            raise BundleError(f"codec.json field {where!r}={declared[name]!r}; the geometry "
                              f"fields imply {{'dtype': {dtype!r}, 'shape': {shape!r}}}")
    for graph, side in (("encoder", "inputs"), ("encoder", "outputs"),
                        ("decoder", "inputs"), ("decoder", "outputs")):
        extra = set(spec[graph][side]) - {n for g, s, n in expected if (g, s) == (graph, side)}
        if extra:
            raise BundleError(f"codec.json field '{graph}.{side}' declares unexpected {sorted(extra)}")


def check_session(graph: str, session: ort.InferenceSession, declared: dict) -> None:
    """ONNX input/output names, element types and shapes against codec.json."""
    for side, args in (("inputs", session.get_inputs()), ("outputs", session.get_outputs())):
        actual = {arg.name: arg for arg in args}
        if set(actual) != set(declared[side]):
            raise BundleError(f"{graph}.onnx {side} are {sorted(actual)}, codec.json field "
                              f"'{graph}.{side}' declares {sorted(declared[side])}")
        for name, want in declared[side].items():
            arg = actual[name]
            if arg.type != _ONNX_TYPES[want["dtype"]]:
                raise BundleError(f"{graph}.onnx {name} has type {arg.type}, codec.json field "
                                  f"'{graph}.{side}.{name}.dtype' says {want['dtype']}")
            # The batch axis is dynamic (a symbolic name); every other axis must be fixed.
            shape = ["batch" if i == 0 and not isinstance(d, int) else d
                     for i, d in enumerate(arg.shape)]
            if shape != want["shape"]:
                raise BundleError(f"{graph}.onnx {name} has shape {arg.shape}, codec.json field "
                                  f"'{graph}.{side}.{name}.shape' says {want['shape']}")


@dataclass(frozen=True)
class Bundle:
    """A validated model bundle with its two onnxruntime sessions.

    Attributes:
        path: the bundle folder.
        spec: the parsed codec.json.
        encoder: session of ``encoder.onnx`` (image [, token_ids] -> indices).
        decoder: session of ``decoder.onnx`` (indices -> image).
        providers: the execution providers the sessions use.
    """

    path: Path
    spec: dict[str, Any]
    encoder: ort.InferenceSession
    decoder: ort.InferenceSession
    providers: tuple[str, ...]

    @property
    def image_size(self) -> int:
        return int(self.spec["image_size"])

    @property
    def indices_shape(self) -> tuple[int, int, int]:
        """One image's indices: layers x tokens x segments."""
        return tuple(self.spec["indices_shape"])

    @property
    def codebook_size(self) -> int:
        return int(self.spec["codebook_size"])

    @property
    def bits_per_index(self) -> int:
        return int(self.spec["bits_per_index"])

    @property
    def bits_per_image(self) -> int:
        return int(self.spec["bits_per_image"])

    @property
    def needs_query(self) -> bool:
        """True when the encoder takes ``token_ids`` (text alignment on)."""
        return bool(self.spec["text_alignment"])

    @property
    def fingerprint(self) -> bytes:
        """See :func:`model_fingerprint`."""
        return model_fingerprint(self.spec)

    @property
    def context_length(self) -> int | None:
        return self.spec["tokenizer"].get("context_length")


def read_spec(path: str | Path) -> dict[str, Any]:
    """A bundle folder's codec.json, validated (no file hashed, no session opened): for
    callers that need the geometry only, e.g. the bytes per image of a link budget.

    Raises:
        BundleError: no codec.json, invalid JSON, or a field that :func:`validate_spec` refuses.
    """
    path = Path(path)
    spec_path = path / SPEC_FILE
    if not spec_path.is_file():
        raise BundleError(f"{path} has no {SPEC_FILE}: not a model bundle")
    try:
        spec = json.loads(spec_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BundleError(f"{spec_path} is not valid JSON: {error}") from error
    validate_spec(spec)
    return spec


def session_options(intra_op_threads: int) -> ort.SessionOptions:
    """onnxruntime options with ``intra_op_threads`` threads per session (0 = its default).

    Raises:
        BundleError: a negative thread count.
    """
    if intra_op_threads < 0:
        raise BundleError(f"intra_op_threads={intra_op_threads!r} must be >= 0")
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    return options


def check_file_hash(path: Path, field: str, recorded: str) -> Path:
    """``path`` after checking that it exists and has the sha256 codec.json records.

    Args:
        path: the file.
        field: the codec.json field that names it (e.g. ``"encoder"``), for the message.
        recorded: the recorded hex sha256.

    Raises:
        BundleError: a missing file, or another hash (naming ``field``).
    """
    if not path.is_file():
        raise BundleError(f"{path} (codec.json field '{field}.file') does not exist")
    actual = sha256_file(path)
    if actual != recorded:
        raise BundleError(f"{path.name} has sha256 {actual}, codec.json field "
                          f"'{field}.sha256' records {recorded}: tampered or replaced file")
    return path


def open_checked_session(folder: Path, graph: str, declared: dict[str, Any],
                         options: ort.SessionOptions, providers: Sequence[str]) -> ort.InferenceSession:
    """One onnxruntime session of the graph codec.json's field ``graph`` declares
    (``file``, ``sha256``), after the hash check of :func:`check_file_hash`."""
    file = check_file_hash(folder / declared["file"], graph, declared["sha256"])
    return ort.InferenceSession(str(file), options, providers=list(providers))


def load_bundle(path: str | Path, providers: Sequence[str] | None = None,
                intra_op_threads: int = 0) -> Bundle:
    """Validate a bundle folder and open its two sessions (once; reuse the Bundle).

    Args:
        path: the bundle folder.
        providers: onnxruntime execution providers in order; ``None`` = CUDA
            when available, else CPU.
        intra_op_threads: threads per session (0 = onnxruntime's default).

    Raises:
        BundleError: anything missing, inconsistent or tampered with, naming the field or file.
    """
    path = Path(path)
    options = session_options(intra_op_threads)
    spec = read_spec(path)
    if spec.get("mode", UOISC_MODE) != UOISC_MODE:
        raise BundleError(f"{path} is a {spec['mode']!r} bundle (codec.json field 'mode'): "
                          "use uoisc_runtime.VlfCodec / load_vlf_bundle")
    chosen = select_providers(providers)
    sessions = {}
    for graph in ("encoder", "decoder"):
        sessions[graph] = open_checked_session(path, graph, spec[graph], options, chosen)
        check_session(graph, sessions[graph], spec[graph])
    _log.info("loaded bundle %s (%s, %s indices x %d bits) on %s", path, spec["model_id"],
              "x".join(map(str, spec["indices_shape"])), spec["bits_per_index"], chosen)
    return Bundle(path, spec, sessions["encoder"], sessions["decoder"],
                  tuple(sessions["encoder"].get_providers()))
