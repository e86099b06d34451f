"""The shipped caption decoder (models/uoisc-tiny-vlf-caption): loads hash-checked and reads colours."""

import pytest

from uoisc_train.vlf.caption_artefact import load_caption_decoder, tiny_caption_dir

pytestmark = pytest.mark.skipif(not (tiny_caption_dir() / "config.json").is_file(),
                                reason="shipped caption decoder not present")


def test_shipped_decoder_loads_with_the_recorded_geometry():
    """The folder loads (hash and vocabulary checked) and reads the tiny CLIP's 128-dim feature."""
    decoder, config = load_caption_decoder()
    assert decoder.config.embed_dim == config["feature"]["embed_dim"] == 128
    assert config["feature"]["backbone"] == "uoisc-tiny-clip"


def test_shipped_decoder_names_colours_far_above_its_language_prior():
    """On 24 test_seen scenes, colour accuracy from each scene's own feature beats the same
    decoder fed another scene's feature by at least 25 points (recorded gap: 58 points on 200
    scenes; 25 leaves room for the small sample)."""
    from uoisc_train.clip import load_tiny_clip
    from uoisc_train.clip.evaluate import generate_scenes
    from uoisc_train.vlf import caption_metrics, embed_scenes
    from uoisc_train.vlf.train_caption import EVAL_SEED

    decoder, _ = load_caption_decoder()
    scenes = generate_scenes("test_seen", 24, EVAL_SEED)
    features = embed_scenes(load_tiny_clip(), scenes)
    references = [s.caption for s in scenes]
    own = caption_metrics(references, decoder.caption(features))
    other = caption_metrics(references, decoder.caption(features.roll(1, dims=0)))
    assert own["colour"] >= other["colour"] + 0.25
