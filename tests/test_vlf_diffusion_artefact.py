"""The shipped generator ``models/uoisc-tiny-vlf-generator``: loads hash-checked, fits the tiny
CLIP, and its images still point to the feature they were generated from."""

import json
import shutil

import numpy as np
import pytest
import torch

from uoisc_train.artefact import ArtefactError
from uoisc_train.clip import load_tiny_clip
from uoisc_train.clip.evaluate import EVAL_SEED, generate_scenes, images_to_tensor
from uoisc_train.clip.tiny import models_dir
from uoisc_train.vlf.diffusion_artefact import load_generator
from uoisc_train.vlf.scene_features import embed_images

from test_vlf_diffusion import one_thread  # noqa: F401 (autouse fixture)

GENERATOR_DIR = models_dir() / "uoisc-tiny-vlf-generator"


@pytest.fixture(scope="module")
def generator():
    return load_generator(GENERATOR_DIR)


def test_shipped_generator_fits_the_tiny_clip(generator):
    """The generator's feature width is the shipped tiny CLIP's embed_dim, its output the world's 64x64."""
    backbone = load_tiny_clip()
    assert generator.config.feature_dim == backbone.embed_dim
    assert generator.config.image_size == backbone.image_size[0]


def test_tampered_weights_are_refused(tmp_path):
    """A copy whose recorded sha256 no longer matches the weights is refused loudly."""
    copy = tmp_path / "generator"
    shutil.copytree(GENERATOR_DIR, copy)
    config = json.loads((copy / "config.json").read_text())
    config["weights"]["sha256"] = "0" * 64
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ArtefactError, match="sha256"):
        load_generator(copy)


def test_generated_images_point_back_to_their_own_feature(generator):
    """Seen by the tiny CLIP, each image generated (guidance 3, 10 steps) from a test_seen
    scene's feature is more similar to that feature than to the other scenes' features on
    average (with no conditioning, both means would be equal in expectation)."""
    backbone = load_tiny_clip()
    scenes = generate_scenes("test_seen", 16, EVAL_SEED)
    features = embed_images(backbone, images_to_tensor(np.stack([s.image for s in scenes])))
    cosine = embed_images(backbone, generator.sample(features, steps=10, guidance=3.0, seed=0)) @ features.T
    off_diagonal = cosine[~torch.eye(16, dtype=torch.bool)]
    # 16 diagonal values vs 240 others: demand a gap of 3 standard errors of the diagonal mean.
    assert cosine.diagonal().mean() - off_diagonal.mean() > 3 * cosine.diagonal().std() / 4
