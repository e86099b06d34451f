"""The uoisc-tiny-clip config is registered with open_clip and builds exactly as specified."""

import json

import pytest

from uoisc_train.clip import TINY_CLIP_NAME, model_config
from uoisc_train.clip.registry import MODEL_CONFIG_DIR
from uoisc_train.compat import import_open_clip


def test_create_model_by_name_after_import():
    """open_clip.create_model('uoisc-tiny-clip') must build an open_clip CLIP with the JSON's geometry."""
    open_clip = import_open_clip()
    assert TINY_CLIP_NAME in open_clip.list_models()
    model = open_clip.create_model(TINY_CLIP_NAME, pretrained=None)
    config = json.loads((MODEL_CONFIG_DIR / f"{TINY_CLIP_NAME}.json").read_text())
    assert type(model) is open_clip.CLIP
    assert open_clip.get_model_config(TINY_CLIP_NAME) == config
    assert model.visual.patch_size == (config["vision_cfg"]["patch_size"],) * 2
    assert len(model.visual.transformer.resblocks) == config["vision_cfg"]["layers"]
    assert model.visual.transformer.width == config["vision_cfg"]["width"]
    assert model.token_embedding.weight.shape == (config["text_cfg"]["vocab_size"], config["text_cfg"]["width"])
    assert model.text_projection.shape[1] == config["embed_dim"]


def test_patch_divides_image_and_fp16_size_fits_budget():
    """The patch must tile the image, and fp16 weights must stay under the ~10 MB artefact budget."""
    open_clip = import_open_clip()
    vision = model_config()["vision_cfg"]
    assert vision["image_size"] % vision["patch_size"] == 0
    n_params = sum(p.numel() for p in open_clip.create_model(TINY_CLIP_NAME).parameters())
    assert 2 * n_params <= 10 * 2**20


def test_tokenizer_is_open_clips_own():
    """The registered name gives open_clip's BPE tokenizer with the config's context length."""
    open_clip = import_open_clip()
    tokenizer = open_clip.get_tokenizer(TINY_CLIP_NAME)
    assert isinstance(tokenizer, open_clip.SimpleTokenizer)
    ids = tokenizer(["a small red circle"])
    assert ids.shape == (1, model_config()["text_cfg"]["context_length"])


def test_unknown_project_config_names_the_value():
    """Asking for a config that does not exist raises ValueError naming it."""
    with pytest.raises(ValueError, match="no-such-clip"):
        model_config("no-such-clip")
