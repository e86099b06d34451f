"""ClipBackbone: frozen open_clip towers with per-layer features, tiny and user-scale configs."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from uoisc_train.clip import TINY_CLIP_NAME, ClipBackbone


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return ClipBackbone(TINY_CLIP_NAME, pretrained=None, layers=(2, 4, 6))


def test_tiny_layer_features_drop_class_token(tiny):
    """Each selected layer gives N x (H/p * W/p) x D: patch tokens only, class token dropped."""
    images = torch.randn(3, 3, *tiny.image_size)
    features = tiny.image_layer_features(images)
    grid_h, grid_w = tiny.grid_size
    assert len(features) == 3
    for f in features:
        assert f.shape == (3, grid_h * grid_w, tiny.image_width)


def test_layer_features_match_resblock_outputs(tiny):
    """Layer l must be the output of the l-th residual block (1-based), tokens after the class token."""
    images = torch.randn(2, 3, *tiny.image_size)
    captured = []
    hooks = [tiny.model.visual.transformer.resblocks[l - 1].register_forward_hook(
        lambda _m, _i, out: captured.append(out)) for l in tiny.layers]
    try:
        with torch.no_grad():
            tiny.model.encode_image(images)
    finally:
        for hook in hooks:
            hook.remove()
    with torch.no_grad():
        features = tiny.image_layer_features(images)
    for ours, theirs in zip(features, captured):
        torch.testing.assert_close(ours, theirs[:, 1:])


def test_text_token_features_shape_and_mask(tiny):
    """Text features are N x L x D_text; the mask marks start..end tokens, not padding."""
    ids = tiny.tokenize(["a red circle", "two blue stars at the top left"])
    features = tiny.text_token_features(ids)
    assert features.shape == (2, tiny.context_length, tiny.text_width)
    mask = tiny.text_token_mask(ids)
    assert mask[0].sum() < mask[1].sum()
    assert mask[:, 0].all() and not mask[:, -1].any()


def test_image_embedding_is_clips_pooled_projection_at_unit_norm(tiny):
    """image_embedding is open_clip's encode_image (class token, LayerNorm, projection)
    scaled to unit norm: N x embed_dim, and the same direction as the raw projection."""
    images = tiny.normalize(torch.rand(3, 3, *tiny.image_size, generator=torch.Generator().manual_seed(0)))
    embedding = tiny.image_embedding(images)
    raw = tiny.model.encode_image(images)
    assert embedding.shape == (3, tiny.embed_dim) == raw.shape
    torch.testing.assert_close(embedding.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(embedding, raw / raw.norm(dim=-1, keepdim=True))
    with pytest.raises(ValueError, match="expected N x 3"):
        tiny.image_embedding(torch.zeros(1, 3, 8, 8))


def test_towers_are_frozen_but_inputs_get_gradients(tiny):
    """No parameter trains, train() keeps eval mode, yet gradients reach the input pixels."""
    tiny.train()
    assert not tiny.model.training
    assert not any(p.requires_grad for p in tiny.parameters())
    images = torch.randn(1, 3, *tiny.image_size, requires_grad=True)
    tiny.image_layer_features(images)[-1].sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


@pytest.mark.parametrize("layers", [(0,), (7,), (4, 2), (2, 2), ()])
def test_bad_layers_raise_value_error(layers):
    """Layers must be increasing, distinct, within 1..L; anything else raises ValueError."""
    with pytest.raises(ValueError, match="layers"):
        ClipBackbone(TINY_CLIP_NAME, layers=layers)


def test_wrong_image_size_raises(tiny):
    """Images of another size than the tower's raise ValueError, not a shape crash deep inside."""
    with pytest.raises(ValueError, match="shape"):
        tiny.image_layer_features(torch.randn(1, 3, 32, 32))


def test_unknown_tag_and_model_raise_value_error():
    """An unknown model name or pretrained tag is a ValueError naming it."""
    with pytest.raises(ValueError, match="no-such-model"):
        ClipBackbone("no-such-model")
    with pytest.raises(ValueError, match="no-such-tag"):
        ClipBackbone(TINY_CLIP_NAME, pretrained="no-such-tag")


def test_user_scale_vit_b_16_random_init_shapes():
    """ViT-B-16 (the paper's backbone) builds offline with random weights: 14x14 tokens of width 768."""
    torch.manual_seed(0)
    backbone = ClipBackbone("ViT-B-16", pretrained=None, layers=(4, 8, 12))
    assert backbone.grid_size == (14, 14) and backbone.image_width == 768
    with torch.no_grad():
        features = backbone.image_layer_features(torch.randn(1, 3, 224, 224))
        text = backbone.text_token_features(backbone.tokenize(["where is the horse?"]))
    assert [tuple(f.shape) for f in features] == [(1, 196, 768)] * 3
    assert text.shape == (1, 77, 512)


def test_openai_weights_offline_give_clear_error():
    """With no internet (HF_HUB_OFFLINE=1), pretrained='openai' raises WeightsUnavailableError saying what to do."""
    script = textwrap.dedent("""
        from uoisc_train.clip import ClipBackbone, WeightsUnavailableError
        try:
            ClipBackbone("ViT-B-16", pretrained="openai")
        except WeightsUnavailableError as error:
            print("CLEAR:", error)
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "CLEAR:" in result.stdout
    assert "no internet" in result.stdout and "local checkpoint" in result.stdout


def test_pretrained_checkpoint_file_is_loaded(tmp_path):
    """pretrained=<file> loads that open_clip state dict (the user's local-checkpoint escape hatch)."""
    torch.manual_seed(1)
    source = ClipBackbone(TINY_CLIP_NAME)
    path = tmp_path / "tiny.pt"
    torch.save(source.model.state_dict(), path)
    loaded = ClipBackbone(TINY_CLIP_NAME, pretrained=str(path))
    for (name, a), b in zip(source.model.state_dict().items(), loaded.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
