"""An erasure-aware bundle end to end: train one epoch -> erasure fine-tuning CLI -> export ->
``uoisc_runtime.SemanticCodec``, which decodes erased indices as the learned token K.

The bundle is a random-init tiny codec trained for a few steps (fast, not a good model): the
tests check the contract (codec.json, parity, which index the decoder reads), not quality.
"""

import json

import numpy as np
import pytest

from uoisc_runtime import CodecError, SemanticCodec
from uoisc_runtime.bundle import BundleError
from uoisc_runtime.codec import erasure_index_of
from uoisc_runtime.frame import HEADER_BYTES
from uoisc_runtime.preprocess import to_uint8_image
from uoisc_train.codec.erasures import DEFAULT_CW_DATA_BYTES
from uoisc_train.export import main as export_main
from uoisc_train.train import resolve_configs, run_training
from uoisc_train.training.erasure_finetune import main as finetune_main
from uoisc_train.world.scenes import generate_scene

EPOCH = ["train_scenes=16", "batch_size=4", "phase1_steps=2", "phase2_steps=0",
         "judge=random-tiny", "log_every=1", "seed=0"]
FINETUNE = ["--steps", "2", "--batch-size", "4", "--train-scenes", "16", "--judge", "random-tiny",
            "--log-every", "1"]


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("erasure")
    codec, settings = resolve_configs("uoisc-tiny", "uoisc", EPOCH)
    run_training(codec, settings, root / "run", threads=1)
    assert finetune_main(["-c", str(root / "run" / "last.pt"), "-r", str(root / "tuned"),
                          "-t", "1", *FINETUNE]) == 0
    assert export_main(["-c", str(root / "tuned" / "last.pt"), "-o", str(root / "bundle")]) == 0
    return root / "bundle"


@pytest.fixture(scope="module")
def codec(bundle_dir):
    return SemanticCodec.from_path(bundle_dir, intra_op_threads=1)


@pytest.fixture(scope="module")
def frame(codec):
    scene = generate_scene(0, size=64, split="test_zeroshot")
    return codec.encode(scene.image, scene.qa[0].question)


def _onnx_images(codec, indices):
    """The decoder graph run directly on int64 indices (no runtime checks)."""
    return codec.bundle.decoder.run(["image"], {"indices": indices.astype(np.int64)})[0]


def test_bundle_declares_erasure_index_k_and_passes_parity_on_erased_indices(bundle_dir, codec):
    """codec.json has erasure_index = codebook_size, its parity check covered erased copies
    within the export tolerance, and the runtime exposes the index."""
    spec = json.loads((bundle_dir / "codec.json").read_text())
    assert spec["erasure_index"] == spec["codebook_size"] == codec.erasure_index == 256
    assert spec["codec_config"]["erasure_token"] is True
    assert spec["parity"]["erased_images"] == spec["parity"]["n_images"]
    assert spec["parity"]["image_max_abs_error"] <= 1e-4


def test_all_erased_frame_decodes_to_the_all_k_image(codec, frame):
    """A frame whose every byte is unreliable (header too) decodes without error: header not
    trusted, every index replaced, and the image is the decoder's output for all-K indices."""
    result = codec.decode(frame, np.zeros(len(frame), bool))
    assert not result.header_trusted
    assert result.n_erased == result.n_replaced == codec.n_indices
    all_k = np.full((1, *codec.indices_shape), codec.erasure_index)
    assert np.array_equal(result.image, to_uint8_image(_onnx_images(codec, all_k)[0]))


def test_partly_erased_frame_ignores_the_garbage_in_failed_codewords(codec, frame):
    """With one failed codeword in the body, the image does not depend on what its bytes hold
    (they are read as K), and equals decode_indices with those indices marked erased."""
    start, stop = 3 * DEFAULT_CW_DATA_BYTES, 4 * DEFAULT_CW_DATA_BYTES
    byte_ok = np.ones(len(frame), bool)
    byte_ok[start:stop] = False
    garbled = [bytearray(frame), bytearray(frame)]
    garbled[0][start:stop] = bytes(stop - start)
    garbled[1][start:stop] = np.random.default_rng(0).integers(0, 256, stop - start, np.uint8).tobytes()
    first, second = (codec.decode(bytes(g), byte_ok) for g in garbled)
    assert first.header_trusted and first.n_replaced == first.n_erased == stop - start
    assert np.array_equal(first.image, second.image)
    erased = np.zeros(codec.n_indices, bool)
    erased[start - HEADER_BYTES:stop - HEADER_BYTES] = True
    clean = codec.decode(frame).indices[None]
    assert np.array_equal(first.image, codec.decode_indices(clean, erased.reshape(clean.shape))[0])


def test_index_k_is_accepted_only_through_an_erasure_mask(codec, frame):
    """decode_indices refuses K (and anything above) in the indices themselves; a mask of the
    wrong shape is refused too."""
    clean = codec.decode(frame).indices[None]
    indices = clean.copy()
    indices[0, 0, 0, 0] = codec.erasure_index
    with pytest.raises(CodecError, match="codebook"):
        codec.decode_indices(indices)
    with pytest.raises(CodecError, match="codebook"):
        codec.decode_indices(indices, np.ones(indices.shape, bool))
    with pytest.raises(CodecError, match="erased mask"):
        codec.decode_indices(clean, np.zeros(5, bool))


@pytest.mark.parametrize("value", [257, 255, True, "256", 256.0])
def test_erasure_index_other_than_k_is_refused(value):
    """codec.json's erasure_index must be exactly the integer codebook_size; absent means None."""
    assert erasure_index_of({"codebook_size": 256}) is None
    assert erasure_index_of({"codebook_size": 256, "erasure_index": 256}) == 256
    with pytest.raises(BundleError, match="erasure_index"):
        erasure_index_of({"codebook_size": 256, "erasure_index": value})
