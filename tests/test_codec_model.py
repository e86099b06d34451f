"""Tests of the assembled codec ``UOISC`` on a fake backbone (and on the real tiny CLIP)."""

import pytest
import torch

from test_codec_fakes import FakeBackbone, make_token_ids, tiny_config
from uoisc_train.codec import UOISC


@pytest.fixture
def model():
    torch.manual_seed(0)
    return UOISC(tiny_config(), backbone=FakeBackbone())


@pytest.fixture
def batch():
    torch.manual_seed(1)
    return torch.rand(2, 3, 32, 32), make_token_ids(2)


def test_shapes_and_dtypes_through_every_stage(model, batch):
    """encode -> N x |L| x T x D float; forward -> x_hat N x 3 x H x W in [0, 1], int64
    indices N x |L| x T x S, scalar losses and statistics."""
    images, tokens = batch
    config = model.config
    aligned = model.encode(images, tokens)
    assert aligned.shape == (2, 3, 16, 16) and aligned.dtype == torch.float32
    out = model(images, tokens)
    assert out["x_hat"].shape == images.shape and out["x_hat"].dtype == torch.float32
    assert out["x_hat"].min() >= 0 and out["x_hat"].max() <= 1
    assert out["indices"].shape == (2, *config.indices_shape) == (2, 3, 16, 4)
    assert out["indices"].dtype == torch.int64
    assert out["indices"].min() >= 0 and out["indices"].max() < config.codebook_size
    for key in ("vq_loss", "codebook_loss", "commitment_loss", "perplexity", "usage",
                "index_errors"):
        assert out[key].shape == () and torch.isfinite(out[key]), key


def test_compress_then_decompress_equals_the_forward_pass(model, batch):
    """In eval mode, decompress(compress(x)) is exactly forward(x)['x_hat'] and the indices agree."""
    images, tokens = batch
    model.eval()
    indices = model.compress(images, tokens)
    out = model(images, tokens)
    assert torch.equal(indices, out["indices"])
    assert torch.allclose(model.decompress(indices), out["x_hat"], atol=1e-6)


def test_decompress_accepts_random_corrupted_indices(model):
    """Uniformly random indices (a very bad channel) still decode to finite images in [0, 1]."""
    model.eval()
    indices = torch.randint(0, model.config.codebook_size, (3, *model.config.indices_shape))
    images = model.decompress(indices)
    assert images.shape == (3, 3, 32, 32)
    assert torch.isfinite(images).all() and images.min() >= 0 and images.max() <= 1


def test_decompress_rejects_out_of_range_and_misshapen_indices(model):
    """Index K, or indices of the wrong shape, raise ValueError saying what is wrong."""
    indices = torch.zeros(1, *model.config.indices_shape, dtype=torch.long)
    indices[0, 1, 2, 3] = model.config.codebook_size
    with pytest.raises(ValueError, match="out of range"):
        model.decompress(indices)
    with pytest.raises(ValueError, match="layers x tokens x segments"):
        model.decompress(torch.zeros(1, 3, 16, 5, dtype=torch.long))


def test_query_changes_the_indices(model, batch):
    """With text alignment the query is part of the code: another query, other indices
    (once FiLM's zero-initialised output layers have been trained away from identity)."""
    images, tokens = batch
    torch.manual_seed(5)
    with torch.no_grad():
        for film in model.film:
            film.shift_mlp[-1].weight.normal_()
    other = make_token_ids(2, seed=9)
    assert not torch.equal(model.compress(images, tokens), model.compress(images, other))


def test_no_text_alignment_baseline_needs_no_query_and_has_no_film():
    """text_alignment=False: no FiLM or text projections; compress works without tokens."""
    model = UOISC(tiny_config(text_alignment=False), backbone=FakeBackbone())
    assert model.film is None and model.projections.text is None
    indices = model.compress(torch.rand(1, 3, 32, 32))
    assert indices.shape == (1, *model.config.indices_shape)


def test_text_alignment_without_tokens_is_refused(model):
    """The UO-ISC model needs one query per image and says so."""
    with pytest.raises(ValueError, match="token_ids"):
        model.encode(torch.rand(2, 3, 32, 32), None)


def test_backbone_mismatch_is_refused():
    """A backbone whose layers or grid differ from the config is refused loudly."""
    with pytest.raises(ValueError, match="layers"):
        UOISC(tiny_config(), backbone=FakeBackbone(layers=(1, 2, 4)))
    with pytest.raises(ValueError, match="grid_size"):
        UOISC(tiny_config(grid_size=8), backbone=FakeBackbone())


def test_wrong_image_size_is_refused(model):
    """Images of another size raise ValueError with the shape."""
    with pytest.raises(ValueError, match=r"\(1, 3, 64, 64\)"):
        model.encode(torch.rand(1, 3, 64, 64), make_token_ids(1))


def test_index_noise_hook_only_acts_in_training(model, batch):
    """index_error_rate corrupts about that fraction of indices in train mode, none in eval;
    the reported clean indices are unaffected and the encoder still gets gradient."""
    images, tokens = batch
    model.index_error_rate = 0.5
    model.train()
    out = model(images, tokens)
    n = out["indices"].numel()
    assert abs(out["index_errors"].item() - 0.5) < 5 * (0.25 / n) ** 0.5
    out["x_hat"].mean().backward()
    assert model.projections.image[0].net[1].weight.grad.abs().sum() > 0
    model.eval()
    clean = model(images, tokens)
    assert clean["index_errors"].item() == 0
    assert torch.equal(clean["indices"], model.compress(images, tokens))
    with pytest.raises(ValueError, match="1.5"):
        model.index_error_rate = 1.5


def test_decoder_sees_the_corrupted_codewords_in_training(model, batch):
    """At index_error_rate = 1 every segment the decoder receives is the codeword of a
    different index than the clean one; in eval mode it receives the clean codewords."""
    images, tokens = batch
    seen = []
    model.decoder.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach()))
    model.index_error_rate = 1.0
    clean = model.train()(images, tokens)["indices"]
    received = model.quantizer.nearest(model.quantizer.split(seen[-1]))
    assert (received != clean).all()
    model.eval()(images, tokens)
    assert torch.equal(model.quantizer.nearest(model.quantizer.split(seen[-1])), clean)


def test_trainable_parameters_exclude_the_frozen_backbone(model):
    """The optimiser never sees the frozen CLIP weights."""
    trainable = {id(p) for p in model.trainable_parameters()}
    assert trainable and not trainable & {id(p) for p in model.backbone.parameters()}


def test_real_tiny_clip_backbone_runs_through_the_codec():
    """With ClipBackbone('uoisc-tiny-clip', pretrained=None) (random init) the default
    tiny config encodes 64x64 images and queries to 3 x 64 x 8 indices and decodes them."""
    from uoisc_train.clip import backbone as clip
    from uoisc_train.codec import CodecConfig
    torch.manual_seed(0)
    config = CodecConfig(shared_dim=16, segment_length=8, codebook_size=16, decoder_channels=8)
    backbone = clip.ClipBackbone(config.backbone, pretrained=None, layers=config.layers)
    model = UOISC(config, backbone=backbone).eval()
    tokens = backbone.tokenize(["what colour is the star?", "is there a circle?"])
    indices = model.compress(torch.rand(2, 3, 64, 64), tokens)
    assert indices.shape == (2, 3, 64, 2) and indices.dtype == torch.int64
    assert model.decompress(indices).shape == (2, 3, 64, 64)


def test_vit_b16_sized_codec_round_trips_224_images():
    """The paper's geometry (224x224, patch 16 -> 14x14 grid, layers {3, 6, 9, 12}) gives
    4 x 196 x S indices and decodes back to 224x224 (tiny widths keep it fast)."""
    from uoisc_train.codec import CodecConfig
    config = CodecConfig(backbone="ViT-B-16", layers=(3, 6, 9, 12), image_size=224, grid_size=14,
                         shared_dim=8, segment_length=4, codebook_size=8, decoder_channels=4)
    backbone = FakeBackbone(layers=(3, 6, 9, 12), image_size=224, patch=16, image_width=8)
    model = UOISC(config, backbone=backbone).eval()
    indices = model.compress(torch.rand(1, 3, 224, 224), make_token_ids(1))
    assert indices.shape == (1, 4, 196, 2)
    assert model.decompress(indices).shape == (1, 3, 224, 224)


def test_named_vit_b16_config_matches_the_real_open_clip_vit_b16():
    """The shipped 'uoisc-vit-b16' config agrees with ClipBackbone('ViT-B-16') (random init:
    layers, 14x14 grid, 224 px) and one image goes through compress/decompress."""
    from uoisc_train.clip import backbone as clip
    from uoisc_train.codec import get_codec_config
    torch.manual_seed(0)
    config = get_codec_config("uoisc-vit-b16").replace(pretrained=None, decoder_channels=8)
    backbone = clip.ClipBackbone(config.backbone, pretrained=None, layers=config.layers)
    model = UOISC(config, backbone=backbone).eval()
    indices = model.compress(torch.rand(1, 3, 224, 224), backbone.tokenize(["where is the dog?"]))
    assert indices.shape == (1, *config.indices_shape) == (1, 4, 196, 16)
    assert model.decompress(indices).shape == (1, 3, 224, 224)
