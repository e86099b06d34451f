"""The shipped VLF bundle ``models/uoisc-tiny-vlf``: geometry, parity with the torch models it
was made from (tiny CLIP transmitter, shipped caption decoder and generator), end-to-end frames."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from test_runtime_vlf_codec import sampler_of
from test_vlf_diffusion import one_thread  # noqa: F401 (autouse fixture)
from uoisc_runtime import VlfCodec, sha256_file
from uoisc_runtime.vlf_ddim import ddim_sample, resize_bilinear
from uoisc_train.world.scenes import generate_scene

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "models" / "uoisc-tiny-vlf"


@pytest.fixture(scope="module")
def codec():
    return VlfCodec.from_path(BUNDLE, providers=["CPUExecutionProvider"], intra_op_threads=1)


@pytest.fixture(scope="module")
def scenes():
    return [generate_scene(seed, 64, "test_zeroshot") for seed in range(6)]


def test_shipped_geometry_is_the_documented_default(codec):
    """VQ l_s = 4, K = 256 on the 128-dim tiny CLIP embedding: 32 bytes + 8 header bytes per
    image; 64x64 in and out; the fingerprint follows the contract."""
    spec = codec.spec
    assert (spec["quantizer"], spec["segment_length"], spec["codebook_size"]) == ("vq", 4, 256)
    assert (codec.n_indices, codec.bits_per_index, codec.n_levels) == (32, 8, 256)
    assert codec.payload_bytes == 8 + 32 and spec["bits_per_image"] == 256
    assert (codec.embed_dim, codec.image_size, codec.output_size) == (128, 64, 64)
    assert not codec.needs_query
    text = f"uoisc-tiny-vlf:{sha256_file(BUNDLE / 'vlf_dequantizer.onnx')}"
    assert codec.fingerprint == hashlib.sha256(text.encode()).digest()[:4]


def _torch_transmitter(codec):
    """The torch transmitter of the bundle: the shipped tiny CLIP with the bundle's codebooks,
    read back through the dequantizer (index k in every segment -> codeword k of each)."""
    from uoisc_train.clip import load_tiny_clip
    from uoisc_train.vlf import VlfConfig, VlfTransmitter
    config = VlfConfig.from_dict(codec.spec["vlf_config"])
    transmitter = VlfTransmitter(config, load_tiny_clip()).eval()
    every_k = np.repeat(np.arange(config.codebook_size)[:, None], codec.n_indices, axis=1)
    table = codec.dequantize(every_k).reshape(config.codebook_size, codec.n_indices, config.segment_length)
    with torch.no_grad():
        transmitter.quantizer.codebooks.copy_(torch.from_numpy(table.transpose(1, 0, 2)))
    return transmitter


def test_shipped_indices_equal_torch_tiny_clip_and_codebooks(codec, scenes):
    """Runtime indices of zero-shot scenes equal VlfTransmitter.compress (tiny CLIP + the
    bundle's codebooks) up to the bundle's recorded parity mismatch (0.0 when exported)."""
    transmitter = _torch_transmitter(codec)
    images = np.stack([s.image for s in scenes])
    with torch.no_grad():
        expected = transmitter.compress(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255).numpy()
    mismatch = np.mean(codec.encode_indices(list(images)) != expected)
    assert mismatch <= codec.spec["parity"]["index_mismatch_fraction"]


def test_shipped_caption_equals_torch_decoder(codec, scenes):
    """Captions of received features equal the shipped torch decoder's greedy captions."""
    from uoisc_train.vlf.caption_artefact import load_caption_decoder
    decoder, _ = load_caption_decoder()
    features = codec.dequantize(codec.encode_indices([s.image for s in scenes]))
    assert codec.caption(features) == decoder.caption(torch.from_numpy(features))


def test_shipped_generator_equals_torch_sampling(codec, scenes):
    """The shipped denoiser through the runtime's DDIM equals the torch generator's sample from
    the same noise (10 steps, guidance 3): 10 steps x (2w - 1) x 1e-4 per step."""
    from uoisc_train.vlf.diffusion_artefact import load_generator
    generator = load_generator(ROOT / "models" / "uoisc-tiny-vlf-generator")
    features = codec.dequantize(codec.encode_indices([s.image for s in scenes[:2]]))
    x_T = generator.initial_noise(2, seed=3).numpy()
    samples = ddim_sample(*sampler_of(codec), features, x_T, 10, 3.0)
    expected = generator.sample(torch.from_numpy(features), steps=10, guidance=3.0, seed=3).numpy()
    np.testing.assert_allclose(resize_bilinear(samples, 64), expected, atol=10 * 5 * 1e-4)


def test_shipped_frame_decodes_to_caption_and_image(codec, scenes):
    """A frame of a scene decodes to a caption in the world's template and a 64x64 RGB image."""
    result = codec.decode(codec.encode(scenes[0].image), seed=1, steps=2, guidance=1.0)
    assert result.caption.startswith("A ") and result.caption.endswith("background.")
    assert result.image.shape == (64, 64, 3) and result.image.dtype == np.uint8
    assert result.header_trusted and result.n_erased == 0
