"""The shipped tiny CLIP (models/uoisc-tiny-clip): hash-checked loading and reproducible metrics."""

import json
import shutil

import pytest

from uoisc_train.clip import ArtefactError, ClipBackbone, load_tiny_clip, tiny_clip_dir
from uoisc_train.artefact import CONFIG_FILE, WEIGHTS_FILE, read_metrics
from uoisc_train.clip.evaluate import clip_zero_shot_metrics
from uoisc_train.compat import import_open_clip
from uoisc_train.world import GENERATOR_VERSION

METRIC_KEYS = ("retrieval_image_to_text", "retrieval_text_to_image", "shape_presence",
               "held_out_shape_presence")


@pytest.fixture(scope="module")
def shipped():
    return load_tiny_clip()


def test_shipped_config_matches_registry_and_generator(shipped):
    """The shipped folder was trained with the registered config and the current generator version."""
    config = json.loads((tiny_clip_dir() / CONFIG_FILE).read_text())
    assert config["model_name"] == "uoisc-tiny-clip"
    assert config["data"]["generator_version"] == GENERATOR_VERSION
    assert (tiny_clip_dir() / WEIGHTS_FILE).stat().st_size <= 10 * 2**20


def test_recorded_metrics_reproduce(shipped):
    """Recomputing the zero-shot metrics on the recorded evaluation set gives the recorded values.

    Tolerance: 2 scenes out of n (float summation order may flip a near-tie argmax), nothing more.
    """
    recorded = read_metrics(tiny_clip_dir())
    open_clip = import_open_clip()
    metrics = clip_zero_shot_metrics(shipped.model, open_clip.get_tokenizer("uoisc-tiny-clip"),
                                     recorded["n_scenes"], recorded["eval_seed"])
    tolerance = 2 / recorded["n_scenes"]
    for key in METRIC_KEYS:
        assert metrics[key] == pytest.approx(recorded[key], abs=tolerance), key


def test_trained_clip_beats_chance(shipped):
    """Contrastive pretraining must have taught something: every recorded accuracy is above its chance level."""
    recorded = read_metrics(tiny_clip_dir())
    chance_retrieval = 1 / recorded["retrieval_group"]
    assert recorded["retrieval_image_to_text"] > 2 * chance_retrieval
    assert recorded["shape_presence"] > recorded["shape_presence_chance"]
    assert recorded["held_out_shape_presence"] > recorded["held_out_shape_presence_chance"]


def test_sha256_mismatch_is_refused(tmp_path):
    """A weights file that differs from the recorded sha256 is refused loudly, naming both hashes."""
    copy = tmp_path / "uoisc-tiny-clip"
    shutil.copytree(tiny_clip_dir(), copy)
    weights = bytearray((copy / WEIGHTS_FILE).read_bytes())
    weights[-1] ^= 0xFF
    (copy / WEIGHTS_FILE).write_bytes(bytes(weights))
    with pytest.raises(ArtefactError, match="sha256 mismatch"):
        load_tiny_clip(directory=copy)


def test_config_drift_is_refused(tmp_path):
    """A folder whose recorded open_clip config differs from the registered one is refused."""
    copy = tmp_path / "uoisc-tiny-clip"
    shutil.copytree(tiny_clip_dir(), copy)
    config = json.loads((copy / CONFIG_FILE).read_text())
    config["open_clip_config"]["vision_cfg"]["layers"] += 1
    (copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ArtefactError, match="another uoisc-tiny-clip config"):
        ClipBackbone("uoisc-tiny-clip", pretrained=str(copy))


def test_backbone_from_shipped_weights(shipped):
    """load_tiny_clip gives a frozen backbone whose weights equal the shipped ones (not a random init)."""
    open_clip = import_open_clip()
    fresh = open_clip.create_model("uoisc-tiny-clip")
    differs = [(a - b).abs().max().item() > 0 for a, b in
               zip(shipped.model.state_dict().values(), fresh.state_dict().values())]
    assert any(differs)
    assert not any(p.requires_grad for p in shipped.parameters())
