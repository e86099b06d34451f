"""VLF bundle loading in the runtime: codec.json's mode branch, geometry, widths, hashes.

A small complete bundle is exported from fakes (random backbone, a briefly trained caption
decoder, a random tiny denoiser) with ``uoisc_train.vlf.bundle_cli``; every test copies it
before breaking it.
"""

import copy
import json
import shutil
from pathlib import Path

import pytest
import torch

from test_vlf_caption_export import trained_decoder
from test_vlf_diffusion import TINY, randomised
from test_vlf_export import E, fitted_transmitter
from uoisc_runtime import BundleError, load_bundle, load_vlf_bundle, model_fingerprint, sha256_file
from uoisc_runtime.bundle import read_spec, validate_spec
from uoisc_runtime.codec import frame_bytes
from uoisc_train.vlf.bundle_cli import export_complete_vlf_bundle
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion

ROOT = Path(__file__).resolve().parent.parent
UOISC_BUNDLE = ROOT / "models" / "uoisc-tiny-uoisc"
#: The fake generator's config: 8x8 samples upsampled to 16x16, 50 timesteps, width E.
GENERATOR_CONFIG = TINY.replace(feature_dim=E)


def build_fake_vlf_bundle(out_dir, **transmitter_changes):
    """Export a complete VLF bundle of fakes to ``out_dir``; returns (transmitter, caption
    decoder, generator, codec.json dict), the torch models in eval mode."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        transmitter = fitted_transmitter(quantizer="vq", **transmitter_changes).eval()
        decoder = trained_decoder().eval()
        generator = randomised(FeatureToImageDiffusion(GENERATOR_CONFIG), seed=5).eval()
        spec = export_complete_vlf_bundle(transmitter, decoder, generator, out_dir, "fake-vlf")
    finally:
        torch.set_num_threads(previous)
    return transmitter, decoder, generator, spec


@pytest.fixture(scope="module")
def fake_bundle(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("fake-vlf")
    build_fake_vlf_bundle(out_dir)
    return out_dir


@pytest.fixture
def bundle_copy(fake_bundle, tmp_path):
    return Path(shutil.copytree(fake_bundle, tmp_path / "bundle"))


def _rewrite_spec(folder, change):
    path = folder / "codec.json"
    spec = json.loads(path.read_text())
    change(spec)
    path.write_text(json.dumps(spec))


def test_complete_bundle_loads_with_four_sessions_and_checked_widths(fake_bundle):
    """The exported folder loads; codec.json lists both receivers with the embed width and the
    generator's output size from denoiser.json."""
    bundle = load_vlf_bundle(fake_bundle, providers=["CPUExecutionProvider"], intra_op_threads=1)
    spec = bundle.spec
    assert spec["mode"] == "vlf"
    assert spec["caption_decoder"]["embed_dim"] == spec["generator"]["feature_dim"] == spec["embed_dim"] == E
    assert spec["generator"]["output_size"] == bundle.denoiser_spec["diffusion_config"]["image_size"] \
        == GENERATOR_CONFIG.image_size
    assert spec["generator"]["sample_size"] == GENERATOR_CONFIG.sample_size
    for field in ("encoder", "dequantizer", "caption_decoder", "generator"):
        assert spec[field]["sha256"] == sha256_file(fake_bundle / spec[field]["file"])
    assert bundle.providers == ("CPUExecutionProvider",)


def test_fingerprint_hashes_the_dequantizer(fake_bundle):
    """The VLF fingerprint is sha256(model_id + ':' + dequantizer sha256)[:4] (the contract)."""
    import hashlib
    spec = read_spec(fake_bundle)
    text = f"{spec['model_id']}:{spec['dequantizer']['sha256']}"
    assert model_fingerprint(spec) == hashlib.sha256(text.encode()).digest()[:4]


def test_read_spec_gives_vlf_frame_bytes_without_sessions(fake_bundle):
    """read_spec validates a VLF folder too, so a link budget can size its frames:
    8 header bytes + ceil(G * bits / 8)."""
    spec = read_spec(fake_bundle)
    g, bits = spec["indices_shape"][0], spec["bits_per_index"]
    assert frame_bytes(spec) == 8 + -(-g * bits // 8)


def test_load_bundle_refuses_a_vlf_folder_naming_the_mode(fake_bundle):
    """The UO-ISC loader refuses a VLF bundle and says which class to use."""
    with pytest.raises(BundleError, match=r"'vlf'.*VlfCodec"):
        load_bundle(fake_bundle)


def test_load_vlf_bundle_refuses_a_uoisc_folder():
    """The VLF loader refuses a UO-ISC bundle and points to SemanticCodec."""
    with pytest.raises(BundleError, match=r"'uoisc'.*SemanticCodec"):
        load_vlf_bundle(UOISC_BUNDLE)


@pytest.mark.parametrize("file_of", ["encoder", "dequantizer", "caption_decoder", "generator",
                                     "caption_decoder.spec", "generator.spec"])
def test_tampered_file_is_refused_naming_its_field(bundle_copy, file_of):
    """One byte appended to any of the six files fails the hash check naming its codec.json field."""
    spec = read_spec(bundle_copy)
    section, _, part = file_of.partition(".")
    name = spec[section]["spec_file" if part else "file"]
    with open(bundle_copy / name, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match=rf"'{file_of}\.sha256'"):
        load_vlf_bundle(bundle_copy)


@pytest.mark.parametrize("field", ["caption_decoder", "generator"])
def test_missing_receiver_graph_is_refused(bundle_copy, field):
    """A deleted receiver graph is named with its field, not an onnxruntime crash."""
    (bundle_copy / read_spec(bundle_copy)[field]["file"]).unlink()
    with pytest.raises(BundleError, match=rf"'{field}\.file'.*does not exist"):
        load_vlf_bundle(bundle_copy)


def test_denoiser_of_another_width_is_refused_even_when_rehashed(bundle_copy):
    """A denoiser.json whose feature width differs from embed_dim is refused although
    codec.json's hash of it was updated (a consistent-looking but wrong artefact)."""
    meta_path = bundle_copy / "denoiser.json"
    meta = json.loads(meta_path.read_text())
    meta["diffusion_config"]["feature_dim"] = E + 1
    meta_path.write_text(json.dumps(meta))
    _rewrite_spec(bundle_copy, lambda s: s["generator"].update(spec_sha256=sha256_file(meta_path)))
    with pytest.raises(BundleError, match="feature_dim"):
        load_vlf_bundle(bundle_copy)


def test_output_size_must_equal_denoiser_json(bundle_copy):
    """codec.json's generator.output_size must be the image size denoiser.json trained at."""
    _rewrite_spec(bundle_copy, lambda s: s["generator"].update(output_size=64))
    with pytest.raises(BundleError, match="generator.output_size"):
        load_vlf_bundle(bundle_copy)


def _set(path, value):
    def change(spec):
        *parents, key = path.split(".")
        target = spec
        for parent in parents:
            target = target[parent]
        target[key] = value
    return change


@pytest.mark.parametrize("path, value, named", [
    ("bits_per_image", 999, "bits_per_image"),
    ("bits_per_index", 2, "bits_per_index"),
    ("indices_shape", [4, 1], "indices_shape"),
    ("n_levels", 1, "n_levels"),
    ("quantizer", "lattice", "quantizer"),
    ("caption_decoder.embed_dim", E + 1, "caption_decoder.embed_dim"),
    ("generator.feature_dim", E * 2, "generator.feature_dim"),
    ("dequantizer.outputs", {"feature": {"dtype": "float32", "shape": ["batch", E + 1]}},
     "dequantizer.outputs"),
    ("mode", "vlf2", "mode"),
    ("format_version", 2, "format_version"),
])
def test_inconsistent_spec_is_refused_naming_the_field(fake_bundle, path, value, named):
    """Wrong geometry, widths, mode or version in codec.json fail validation naming the field."""
    spec = copy.deepcopy(read_spec(fake_bundle))
    _set(path, value)(spec)
    with pytest.raises(BundleError, match=named):
        validate_spec(spec)


@pytest.mark.parametrize("field", ["caption_decoder", "generator", "dequantizer", "embed_dim"])
def test_missing_field_is_refused(fake_bundle, field):
    """A VLF codec.json without one of its required fields names it."""
    spec = copy.deepcopy(read_spec(fake_bundle))
    del spec[field]
    with pytest.raises(BundleError, match=field):
        validate_spec(spec)


def test_uoisc_spec_with_explicit_mode_still_validates():
    """A UO-ISC codec.json that spells mode 'uoisc' is read like one without mode."""
    spec = read_spec(UOISC_BUNDLE)
    assert "mode" not in spec
    validate_spec({**spec, "mode": "uoisc"})


def test_exporter_refuses_receivers_of_another_width(tmp_path):
    """bundle_cli refuses a generator whose feature width is not the transmitter's embed_dim
    before writing anything, naming the field."""
    transmitter = fitted_transmitter(quantizer="vq")
    generator = FeatureToImageDiffusion(GENERATOR_CONFIG.replace(feature_dim=E + 2))
    with pytest.raises(ValueError, match="generator.config.feature_dim"):
        export_complete_vlf_bundle(transmitter, trained_decoder(), generator, tmp_path / "out", "x")
    assert not (tmp_path / "out").exists()
