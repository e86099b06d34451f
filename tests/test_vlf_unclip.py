"""The user-scale image receiver (Stable unCLIP-style conditioning, diffusers) on a tiny random config."""

import json

import pytest
import torch

from uoisc_train.vlf.unclip import (UnclipImageDecoder, UnclipWeightsUnavailableError,
                                    load_stable_unclip, tiny_unet_kwargs)

from test_vlf_diffusion import one_thread  # noqa: F401 (autouse fixture)

EMBED_DIM = 6


@pytest.fixture(scope="module")
def decoder():
    torch.manual_seed(0)
    return UnclipImageDecoder(EMBED_DIM, tiny_unet_kwargs(EMBED_DIM, sample_size=8)).eval()


def test_class_labels_are_noised_embedding_and_noise_level_sinusoid(decoder):
    """Class labels are N x 2E; at noise level 0 the first half is the embedding itself (the
    normaliser starts at mean 0, std 1 and the noising schedule keeps ~all signal)."""
    embeds = torch.randn(3, EMBED_DIM)
    labels = decoder.class_labels(embeds, noise_level=0)
    assert labels.shape == (3, 2 * EMBED_DIM)
    alpha_bar_0 = decoder.image_noising_scheduler.alphas_cumprod[0]
    torch.testing.assert_close(labels[:, :EMBED_DIM], embeds * alpha_bar_0.sqrt(), atol=0.05, rtol=0)


def test_sampling_shapes_and_determinism(decoder):
    """Two DDIM steps give N x 3 x S x S in [0, 1]; the same seed repeats the images, another seed does not."""
    embeds = torch.randn(2, EMBED_DIM, generator=torch.Generator().manual_seed(1))
    first = decoder.sample(embeds, steps=2, guidance=3.0, seed=5)
    assert first.shape == (2, 3, 8, 8)
    assert first.min() >= 0 and first.max() <= 1
    torch.testing.assert_close(decoder.sample(embeds, steps=2, guidance=3.0, seed=5), first, atol=0, rtol=0)
    assert not torch.allclose(decoder.sample(embeds, steps=2, guidance=3.0, seed=6), first)


def test_the_embedding_conditions_the_image(decoder):
    """With the same seed, two different embeddings give different images (the projection class
    embedding reaches the U-Net)."""
    embeds = torch.randn(2, EMBED_DIM, generator=torch.Generator().manual_seed(2))
    a = decoder.sample(embeds[:1], steps=2, guidance=1.0, seed=0)
    b = decoder.sample(embeds[1:], steps=2, guidance=1.0, seed=0)
    assert not torch.allclose(a, b)


def test_training_loss_is_finite_and_differentiable(decoder):
    """forward() gives a finite scalar eps-MSE with gradients for the U-Net."""
    decoder.train()
    try:
        loss = decoder(torch.rand(2, 3, 8, 8), torch.randn(2, EMBED_DIM), torch.Generator().manual_seed(0))["loss"]
        loss.backward()
    finally:
        decoder.eval()
        decoder.zero_grad(set_to_none=True)
    assert torch.isfinite(loss)


def test_wrong_embedding_size_and_unet_without_projection_are_refused(decoder):
    """An N x (E+1) embedding or a U-Net without the projection class embedding raise ValueError."""
    with pytest.raises(ValueError, match="image_embeds"):
        decoder.class_labels(torch.randn(2, EMBED_DIM + 1))
    kwargs = {**tiny_unet_kwargs(EMBED_DIM), "class_embed_type": None}
    with pytest.raises(ValueError, match="class_embed_type"):
        UnclipImageDecoder(EMBED_DIM, kwargs)


def test_offline_repo_id_gives_a_clear_error(tmp_path):
    """Without the weights in the (here empty) Hugging Face cache, loading names the repo and how to get it."""
    with pytest.raises(UnclipWeightsUnavailableError,
                       match="stable-diffusion-2-1-unclip.*huggingface-cli download"):
        load_stable_unclip("stabilityai/stable-diffusion-2-1-unclip", cache_dir=str(tmp_path / "hub"))


def test_incomplete_local_folder_names_the_missing_components(tmp_path):
    """A folder whose model_index.json lists components that are absent names them."""
    (tmp_path / "model_index.json").write_text(json.dumps(
        {"_class_name": "StableUnCLIPImg2ImgPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
         "vae": ["diffusers", "AutoencoderKL"]}))
    (tmp_path / "vae").mkdir()
    with pytest.raises(UnclipWeightsUnavailableError, match=r"unet/"):
        load_stable_unclip(str(tmp_path))
    with pytest.raises(UnclipWeightsUnavailableError, match="model_index.json"):
        load_stable_unclip(str(tmp_path / "vae"))


class _RecordingPipeline:
    """Stands in for StableUnCLIPImg2ImgPipeline: records the call, returns out-of-range pixels."""

    def __init__(self, embed_dim):
        self.unet = type("Unet", (), {"config": type("Config", (), {
            "projection_class_embeddings_input_dim": 2 * embed_dim})(), "dtype": torch.float32})()
        self.device = torch.device("cpu")
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        n = kwargs["image_embeds"].shape[0]
        return type("Output", (), {"images": torch.full((n, 3, 4, 4), 1.5)})()


def test_generate_with_stable_unclip_passes_embeddings_and_checks_their_width():
    """The embeddings reach the pipeline with an empty prompt per image, the noise level and a
    seeded generator; pixels come back clamped to [0, 1]; a width the U-Net was not trained on
    is refused before any work."""
    from uoisc_train.vlf.unclip import generate_with_stable_unclip
    pipeline = _RecordingPipeline(embed_dim=8)
    images = generate_with_stable_unclip(pipeline, torch.randn(2, 8), steps=3, guidance=5.0,
                                         noise_level=100, seed=4)
    call = pipeline.calls[0]
    assert call["prompt"] == ["", ""] and call["noise_level"] == 100 and call["num_inference_steps"] == 3
    assert call["generator"].initial_seed() == 4 and call["output_type"] == "pt"
    assert images.shape == (2, 3, 4, 4) and images.max() == 1.0
    with pytest.raises(ValueError, match="N x 8"):
        generate_with_stable_unclip(pipeline, torch.randn(2, 1024))
