"""uoisc_runtime.load_bundle: a valid bundle loads; tampered files and inconsistent codec.json
are refused with a BundleError naming the field or file.

The bundle is exported once per module from a random-init tiny codec (the loader checks
structure, not quality), then copied and damaged by each test.
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from uoisc_runtime import FORMAT_VERSION, BundleError, load_bundle, select_providers


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    from uoisc_train.codec import CodecConfig
    from uoisc_train.export import export_bundle
    from uoisc_train.training import build_codec
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("bundle")
    export_bundle(build_codec(CodecConfig()), path, "tiny-random")
    return path


@pytest.fixture
def copy(bundle_dir, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(bundle_dir, target)
    return target


def _edit_spec(path, edit):
    spec = json.loads((path / "codec.json").read_text())
    edit(spec)
    (path / "codec.json").write_text(json.dumps(spec))


def test_valid_bundle_loads_and_runs(bundle_dir):
    """The exported bundle loads; its sessions encode an image+query and decode the indices."""
    bundle = load_bundle(bundle_dir, intra_op_threads=1)
    assert bundle.spec["format_version"] == FORMAT_VERSION
    assert bundle.indices_shape == (3, 64, 8) and bundle.bits_per_index == 8
    assert bundle.bits_per_image == 3 * 64 * 8 * 8 and bundle.needs_query
    image = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    token_ids = np.zeros((1, bundle.context_length), dtype=np.int64)
    token_ids[0, :3] = [49406, 320, 49407]
    (indices,) = bundle.encoder.run(None, {"image": image, "token_ids": token_ids})
    assert indices.dtype == np.int64 and indices.shape == (1, 3, 64, 8)
    assert 0 <= indices.min() and indices.max() < bundle.codebook_size
    (decoded,) = bundle.decoder.run(None, {"indices": indices})
    assert decoded.shape == (1, 3, 64, 64) and 0 <= decoded.min() and decoded.max() <= 1


def test_runtime_does_not_import_torch(bundle_dir):
    """uoisc_runtime loads a bundle in a fresh interpreter without importing torch."""
    code = (f"import sys; from uoisc_runtime import load_bundle; load_bundle({str(bundle_dir)!r}); "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_tampered_onnx_file_is_refused(copy):
    """One changed byte in decoder.onnx: the sha256 check names the file and the field."""
    data = bytearray((copy / "decoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / "decoder.onnx").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"decoder.onnx has sha256 .*'decoder.sha256'"):
        load_bundle(copy)


def test_swapped_onnx_files_are_refused(copy):
    """encoder.onnx replaced by decoder.onnx is caught by the hash before any session runs."""
    shutil.copy(copy / "decoder.onnx", copy / "encoder.onnx")
    with pytest.raises(BundleError, match="encoder.sha256"):
        load_bundle(copy)


@pytest.mark.parametrize("edit, field", [
    (lambda s: s.update(codebook_size=512), "bits_per_index"),
    (lambda s: s.update(codebook_size=128), "bits_per_index"),
    (lambda s: s.update(layers=[2, 4]), "indices_shape"),
    (lambda s: s.update(indices_shape=[3, 64, 4]), "bits_per_image"),
    (lambda s: s.update(format_version=2), "format_version"),
    (lambda s: s.pop("segment_length"), "segment_length"),
    (lambda s: s.pop("tokenizer"), "tokenizer"),
    (lambda s: s["encoder"].pop("sha256"), "encoder.sha256"),
    (lambda s: s.update(image_size="64"), "image_size"),
    (lambda s: s.update(text_alignment=1), "text_alignment"),
    (lambda s: s.update(image_size=96), "encoder.inputs.image"),
    (lambda s: s["tokenizer"].update(context_length=32), "encoder.inputs.token_ids"),
])
def test_mismatched_codec_json_is_refused_naming_the_field(copy, edit, field):
    """Wrong K, wrong layers, missing keys, wrong types or version: BundleError naming the field."""
    _edit_spec(copy, edit)
    with pytest.raises(BundleError, match=field.replace(".", r"\.")):
        load_bundle(copy)


def test_consistent_lie_is_caught_by_the_onnx_shapes(copy):
    """codec.json consistently claiming 2 layers still disagrees with the graphs' real shapes."""
    def edit(spec):
        spec.update(layers=[2, 4], indices_shape=[2, 64, 8], bits_per_image=2 * 64 * 8 * 8)
        for graph, side in (("encoder", "outputs"), ("decoder", "inputs")):
            spec[graph][side]["indices"]["shape"] = ["batch", 2, 64, 8]
    _edit_spec(copy, edit)
    with pytest.raises(BundleError, match=r"encoder.onnx indices has shape"):
        load_bundle(copy)


def test_missing_or_broken_codec_json_is_refused(copy):
    """No codec.json, or one that is not JSON, gives a clear BundleError."""
    (copy / "codec.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(copy)
    (copy / "codec.json").unlink()
    with pytest.raises(BundleError, match="no codec.json"):
        load_bundle(copy)


def test_provider_selection():
    """Default providers end with CPU; an unavailable provider is refused by name."""
    assert select_providers()[-1] == "CPUExecutionProvider"
    with pytest.raises(BundleError, match="NoSuchExecutionProvider"):
        select_providers(["NoSuchExecutionProvider"])
