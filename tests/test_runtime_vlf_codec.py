"""VlfCodec (numpy + onnxruntime) against the torch VLF-MSC models it was exported from.

Parity: indices, dequantised features, greedy captions and DDIM samples equal torch's on
inputs the export never saw. Frames: round trip, bit errors, unreliable headers, frames of
other codecs or models. Independence: the runtime never imports torch.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from test_runtime_vlf_bundle import build_fake_vlf_bundle
from test_vlf_diffusion import one_thread  # noqa: F401 (autouse fixture)
from test_vlf_export import SIZE
from uoisc_runtime import CodecError, SemanticCodec, VlfCodec, build_frame
from uoisc_runtime.frame import HEADER_BYTES
from uoisc_runtime.tokenizer import tokenizer_for
from uoisc_runtime.vlf_ddim import ddim_sample, initial_noise, resize_bilinear, session_denoiser

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """(codec, transmitter, caption decoder, generator) of the plain fake bundle."""
    out_dir = tmp_path_factory.mktemp("fake-vlf")
    transmitter, decoder, generator, _ = build_fake_vlf_bundle(out_dir)
    codec = VlfCodec.from_path(out_dir, providers=["CPUExecutionProvider"], intra_op_threads=1)
    return codec, transmitter, decoder, generator


def _images(n, seed):
    """Float HWC images in [0, 1] at the encoder's size (the runtime passes them through as they are)."""
    return np.random.default_rng(seed).random((n, SIZE, SIZE, 3), dtype=np.float32)


def _torch_images(images):
    return torch.from_numpy(images.transpose(0, 3, 1, 2).copy())


def sampler_of(codec):
    """(denoiser, alpha_bar) of a codec's bundle: the arguments ddim_sample needs before the features."""
    return session_denoiser(codec.bundle.denoiser), np.asarray(codec.bundle.denoiser_spec["alpha_bar"])


def _features(codec, n, seed):
    return np.random.default_rng(seed).standard_normal((n, codec.embed_dim)).astype(np.float32)


def test_indices_and_features_equal_torch_on_new_images(fake):
    """encode_indices equals VlfTransmitter.compress on images the export never saw (0
    mismatches), and dequantize equals torch's lookup; batching does not change indices."""
    codec, transmitter, _, _ = fake
    images = _images(7, seed=3)
    with torch.no_grad():
        expected = transmitter.compress(_torch_images(images)).numpy()
        expected_features = transmitter.dequantize(torch.from_numpy(expected)).numpy()
    indices = codec.encode_indices(images, batch_size=3)
    assert indices.dtype == np.int64 and indices.shape == (7, codec.n_indices)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(codec.encode_indices(images, batch_size=8), indices)
    np.testing.assert_allclose(codec.dequantize(indices), expected_features, atol=1e-6)


def test_query_modulated_bundle_equals_torch_with_the_runtime_tokens(tmp_path):
    """With query modulation the encoder takes the runtime tokenizer's ids; the indices equal
    torch's compress on the same ids, and a missing query is a CodecError."""
    transmitter, _, _, _ = build_fake_vlf_bundle(tmp_path, query_modulation=True)
    codec = VlfCodec.from_path(tmp_path, providers=["CPUExecutionProvider"], intra_op_threads=1)
    assert codec.needs_query
    images, queries = _images(3, seed=8), ["what colour is the cat?", "how many stars", ""]
    token_ids = tokenizer_for(codec.spec)(queries)
    with torch.no_grad():
        expected = transmitter.compress(_torch_images(images), torch.from_numpy(token_ids)).numpy()
    np.testing.assert_array_equal(codec.encode_indices(images, queries), expected)
    with pytest.raises(CodecError, match="query"):
        codec.encode_indices(images)


def test_captions_equal_torch_greedy(fake):
    """caption() gives CaptionDecoder.caption's greedy text on features it never saw."""
    codec, _, decoder, _ = fake
    features = _features(codec, 6, seed=21)
    assert codec.caption(features) == decoder.caption(torch.from_numpy(features))


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_generated_images_equal_torch_sampling_from_the_same_noise(fake, guidance):
    """The runtime's DDIM around the ONNX denoiser, from torch's initial noise, equals torch's
    sample at the output size (bilinear upsampling included). One denoiser step agrees to
    1e-4; guidance amplifies eps differences by up to 2w - 1 over the steps taken."""
    codec, _, _, generator = fake
    features = _features(codec, 3, seed=4)
    steps = 4
    x_T = generator.initial_noise(3, seed=9).numpy()
    samples = ddim_sample(*sampler_of(codec), features, x_T,
                          steps, guidance)
    expected = generator.sample(torch.from_numpy(features), steps=steps, guidance=guidance, seed=9).numpy()
    assert expected.shape[-1] == codec.output_size
    tolerance = steps * max(1.0, 2 * guidance - 1) * 1e-4
    np.testing.assert_allclose(resize_bilinear(samples, codec.output_size), expected, atol=tolerance)


def test_generate_is_the_sampler_on_the_seeded_noise(fake):
    """generate() is exactly ddim_sample on default_rng(seed) noise, upsampled and rounded to uint8."""
    codec, _, _, _ = fake
    features = _features(codec, 2, seed=5)
    images = codec.generate(features, seeds=[3, 11], steps=3, guidance=2.0)
    samples = ddim_sample(*sampler_of(codec), features,
                          initial_noise([3, 11], codec.spec["generator"]["sample_size"]), 3, 2.0)
    expected = np.round(resize_bilinear(samples, codec.output_size).clip(0, 1) * 255).astype(np.uint8)
    assert images.shape == (2, codec.output_size, codec.output_size, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, expected.transpose(0, 2, 3, 1))


def test_generate_is_deterministic_per_seed_whatever_the_batch(fake):
    """Same seed and feature -> same image, alone or in a batch; another seed -> another image."""
    codec, _, _, _ = fake
    features = _features(codec, 2, seed=6)
    batch = codec.generate(features, seeds=[5, 7], steps=2, guidance=3.0)
    alone = codec.generate(features[1:], seeds=[7], steps=2, guidance=3.0)
    np.testing.assert_array_equal(batch[1], alone[0])
    np.testing.assert_array_equal(codec.generate(features[:1], [5], 2, 3.0)[0], batch[0])
    assert not np.array_equal(codec.generate(features[:1], [6], 2, 3.0)[0], batch[0])


@pytest.mark.parametrize("kwargs, named", [
    ({"seeds": [1]}, "seeds"), ({"seeds": [1, -2]}, "seed"), ({"steps": 0}, "steps"),
    ({"steps": 10_000}, "steps"), ({"guidance": -1.0}, "guidance"), ({"guidance": float("nan")}, "guidance"),
])
def test_bad_generate_arguments_are_codec_errors(fake, kwargs, named):
    """Miscounted or negative seeds, steps outside [1, T] and bad guidance raise CodecError naming them."""
    codec, _, _, _ = fake
    arguments = {"seeds": [1, 2], "steps": 2, "guidance": 3.0, **kwargs}
    with pytest.raises(CodecError, match=named):
        codec.generate(_features(codec, 2, seed=1), **arguments)


def test_frame_round_trip(fake):
    """encode -> receive gives the sent indices and their feature; decode adds the caption and
    the image of that feature with the given seed."""
    codec, _, _, _ = fake
    image = _images(1, seed=12)[0]
    data = codec.encode(image)
    assert len(data) == codec.payload_bytes == HEADER_BYTES + -(-codec.n_indices * codec.bits_per_index // 8)
    assert data[:4] == b"UO\x01\x03" and data[4:8] == codec.fingerprint
    received = codec.receive(data)
    np.testing.assert_array_equal(received.indices, codec.encode_indices([image])[0])
    np.testing.assert_array_equal(received.feature, codec.dequantize(received.indices[None])[0])
    assert (received.n_folded, received.n_erased, received.header_trusted) == (0, 0, True)
    result = codec.decode(data, seed=4, steps=2, guidance=1.0)
    assert result.caption == codec.caption(received.feature[None])[0]
    np.testing.assert_array_equal(result.image, codec.generate(received.feature[None], [4], 2, 1.0)[0])


@settings(max_examples=40, deadline=None)
@given(flips=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6))
def test_flipped_body_bits_still_decode_to_valid_indices(fake, flips):
    """Bit errors in the body give some valid index per word (never an exception), and the
    bytes the PHY marks unreliable erase exactly the indices they touch."""
    codec, _, _, _ = fake
    data = bytearray(codec.encode(_images(1, seed=2)[0]))
    body_bits = (len(data) - HEADER_BYTES) * 8
    ok = np.ones(len(data), bool)
    for flip in flips:
        bit = flip % body_bits
        data[HEADER_BYTES + bit // 8] ^= 0x80 >> (bit % 8)
        ok[HEADER_BYTES + bit // 8] = False
    received = codec.receive(bytes(data), ok)
    assert received.indices.min() >= 0 and received.indices.max() < codec.n_levels
    bits = codec.bits_per_index
    # Index i spans body bits [i * bits, i * bits + bits); it is erased when one lies in a bad byte.
    bad_bits = {bit for byte in np.flatnonzero(~ok[HEADER_BYTES:]) for bit in range(8 * byte, 8 * byte + 8)}
    touched = {i for i in range(codec.n_indices) if bad_bits & set(range(i * bits, (i + 1) * bits))}
    assert received.n_erased == len(touched)
    assert np.all(np.isfinite(received.feature))


def test_unreliable_header_is_not_checked(fake):
    """A damaged header marked unreliable does not cost the frame: it decodes, header_trusted False."""
    codec, _, _, _ = fake
    data = bytearray(codec.encode(_images(1, seed=1)[0]))
    data[3] = 1   # kind byte now says "uoisc"
    ok = np.ones(len(data), bool)
    ok[3] = False
    received = codec.receive(bytes(data), ok)
    assert not received.header_trusted
    np.testing.assert_array_equal(received.indices, codec.receive(codec.encode(_images(1, seed=1)[0])).indices)


def test_frames_of_other_codecs_and_models_are_refused(fake):
    """Reliable headers of kind uoisc or jpeg2000, or of another model, raise CodecError; so do
    frames of the wrong length, including a real UO-ISC frame."""
    codec, _, _, _ = fake
    body = bytes(codec.payload_bytes - HEADER_BYTES)
    with pytest.raises(CodecError, match="'uoisc'"):
        codec.receive(build_frame("uoisc", codec.fingerprint, body))
    with pytest.raises(CodecError, match="'jpeg2000'"):
        codec.receive(build_frame("jpeg2000", bytes(4), body))
    with pytest.raises(CodecError, match="another model"):
        codec.receive(build_frame("vlf", b"\x00\x01\x02\x03", body))
    uoisc = SemanticCodec.from_path(ROOT / "models" / "uoisc-tiny-uoisc", intra_op_threads=1)
    uoisc_frame = uoisc.encode(np.zeros((64, 64, 3), np.uint8), "is there a cat?")
    with pytest.raises(CodecError, match="bytes"):
        codec.receive(uoisc_frame)
    with pytest.raises(CodecError, match="byte_ok"):
        codec.receive(codec.encode(_images(1, seed=0)[0]), np.ones(3, bool))
    with pytest.raises(CodecError, match="expected bytes"):
        codec.receive("not bytes")


def test_bad_indices_and_features_are_codec_errors(fake):
    """dequantize refuses out-of-range or misshaped indices; caption refuses a wrong width or NaN."""
    codec, _, _, _ = fake
    with pytest.raises(CodecError, match="levels"):
        codec.dequantize(np.full((1, codec.n_indices), codec.n_levels))
    with pytest.raises(CodecError, match="shape"):
        codec.dequantize(np.zeros((1, codec.n_indices + 1), np.int64))
    with pytest.raises(CodecError, match="shape"):
        codec.caption(np.zeros((1, codec.embed_dim + 1), np.float32))
    with pytest.raises(CodecError, match="NaN"):
        codec.caption(np.full((1, codec.embed_dim), np.nan, np.float32))


def test_resize_bilinear_equals_torch_interpolate():
    """The numpy upsampling equals torch's bilinear interpolate (align_corners=False) for up-
    and down-scaling between odd and even sizes."""
    rng = np.random.default_rng(0)
    for in_size, out_size in [(8, 16), (32, 64), (5, 12), (12, 5), (7, 7)]:
        images = rng.random((2, 3, in_size, in_size), dtype=np.float32)
        expected = torch.nn.functional.interpolate(torch.from_numpy(images), size=(out_size, out_size),
                                                   mode="bilinear", align_corners=False).numpy()
        np.testing.assert_allclose(resize_bilinear(images, out_size), expected, atol=1e-6)


def test_runtime_vlf_never_imports_torch():
    """A fresh interpreter runs the shipped VLF bundle's encode + decode without importing
    torch, open_clip, GNU Radio or the training package."""
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from uoisc_runtime import VlfCodec\n"
        f"codec = VlfCodec.from_path({str(ROOT / 'models' / 'uoisc-tiny-vlf')!r}, intra_op_threads=1)\n"
        "codec.decode(codec.encode(np.zeros((64, 64, 3), np.uint8)), steps=1, guidance=1.0)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'open_clip', 'gnuradio', "
        "'torchvision', 'uoisc_train'}))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.integers(min_value=0, max_value=45), max_size=20))
def test_tokens_to_text_equals_the_training_vocabulary(ids):
    """The runtime's detokeniser (caption.json's word list) writes exactly what the training
    side's CaptionVocabulary.decode writes, for any id sequence (eos anywhere, pad, bos)."""
    from uoisc_runtime.vlf_caption import tokens_to_text
    from uoisc_train.vlf.caption_vocab import CaptionVocabulary
    vocabulary = CaptionVocabulary()
    ids = [i % len(vocabulary) for i in ids]
    special = {"pad": vocabulary.pad_id, "bos": vocabulary.bos_id, "eos": vocabulary.eos_id,
               "unk": vocabulary.unk_id}
    assert tokens_to_text(ids, vocabulary.tokens, special) == vocabulary.decode(ids)
