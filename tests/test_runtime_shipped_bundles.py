"""The codec bundles committed under models/ load with uoisc_runtime and code real scenes.

Covers the shipped UO-ISC bundle and the two neural baselines of issue 4: a bundle that was
committed half-written, tampered with (sha256) or exported from a broken run must fail here,
not in the demo. Quality figures live in the model cards; the only quality check here is the
weakest claim a trained codec must meet (see the test's docstring).
"""

from pathlib import Path

import numpy as np
import pytest

from uoisc_runtime import load_bundle

MODELS = Path(__file__).resolve().parent.parent / "models"
SHIPPED = ["uoisc-tiny-uoisc", "uoisc-tiny-no-text", "uoisc-tiny-no-vlm"]
N_SCENES = 4


def _tokenize(bundle, questions):
    """Token ids with the open_clip tokenizer named in codec.json (torch only on the test side)."""
    from uoisc_train.clip import register_model_configs
    from uoisc_train.compat import import_open_clip
    register_model_configs()
    tokenizer = import_open_clip().get_tokenizer(bundle.spec["tokenizer"]["name"])
    return tokenizer(questions).numpy().astype(np.int64)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_bundle_loads_and_beats_a_flat_image(name):
    """The bundle loads (hashes and graphs checked), has the shared 12288-bit payload the model
    cards compare at, gives indices in [0, K) and images in [0, 1], and its reconstructions of
    `test_seen` scenes are closer (MSE) to the originals than each image's own mean colour is:
    a trained codec must carry more than the average colour."""
    from uoisc_train.world.scenes import generate_scene
    bundle = load_bundle(MODELS / name, intra_op_threads=1)
    assert bundle.bits_per_image == 12288 and bundle.indices_shape == (3, 64, 8)
    scenes = [generate_scene(seed, bundle.image_size, "test_seen") for seed in range(N_SCENES)]
    images = np.stack([s.image for s in scenes]).transpose(0, 3, 1, 2).astype(np.float32) / 255
    feeds = {"image": images}
    if bundle.needs_query:
        feeds["token_ids"] = _tokenize(bundle, [s.qa[0].question for s in scenes])
    (indices,) = bundle.encoder.run(None, feeds)
    assert indices.shape == (N_SCENES, 3, 64, 8)
    assert 0 <= indices.min() and indices.max() < bundle.codebook_size
    (decoded,) = bundle.decoder.run(None, {"indices": indices})
    assert decoded.shape == images.shape and 0 <= decoded.min() and decoded.max() <= 1
    mse_codec = np.mean((decoded - images) ** 2)
    mse_mean_colour = np.mean((images.mean(axis=(2, 3), keepdims=True) - images) ** 2)
    assert mse_codec < mse_mean_colour
