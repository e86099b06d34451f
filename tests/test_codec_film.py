"""Tests of the projections (eqs. 1-2) and FiLM alignment (eqs. 3-4)."""

import pytest
import torch

from uoisc_train.codec.film import FiLM, masked_mean
from uoisc_train.codec.projections import FeatureProjection, LayerProjections


def _perturb_last_layers(film):
    """Give the zero-initialised output layers random weights (as after training)."""
    torch.manual_seed(3)
    with torch.no_grad():
        for mlp in (film.scale_mlp, film.shift_mlp):
            mlp[-1].weight.normal_()
            mlp[-1].bias.normal_()


def test_projections_map_each_layer_to_the_shared_dimension():
    """Image N x T x D_img and text N x L x D_text both become ... x D, one MLP per layer."""
    projections = LayerProjections(n_layers=3, image_dim=24, text_dim=16, shared_dim=12)
    assert projections.project_image(2, torch.randn(2, 9, 24)).shape == (2, 9, 12)
    assert projections.project_text(0, torch.randn(2, 5, 16)).shape == (2, 5, 12)
    assert len(projections.image) == len(projections.text) == 3
    assert projections.image[0] is not projections.image[1]


def test_projections_without_text_refuse_text():
    """The no-text-alignment baseline has no text projections and says so."""
    projections = LayerProjections(2, 24, None, 12)
    assert projections.text is None
    with pytest.raises(ValueError, match="text_alignment"):
        projections.project_text(0, torch.randn(1, 3, 16))


def test_feature_projection_rejects_bad_sizes():
    """Zero widths raise ValueError naming them."""
    with pytest.raises(ValueError, match="in_dim=0"):
        FeatureProjection(0, 4)


def test_masked_mean_ignores_padding():
    """The mean runs over True positions only; an all-False row gives zeros, not NaN."""
    features = torch.tensor([[[1.0], [3.0], [100.0]], [[5.0], [7.0], [9.0]]])
    mask = torch.tensor([[True, True, False], [False, False, False]])
    assert masked_mean(features, mask).flatten().tolist() == [2.0, 0.0]


@pytest.mark.parametrize("pooling", ["attention", "mean"])
def test_film_is_the_identity_at_initialisation(pooling):
    """Scale 1 + 0 and shift 0 at init: aligned features equal the image projection."""
    film = FiLM(8, pooling)
    image = torch.randn(2, 5, 8)
    aligned = film(image, torch.randn(2, 4, 8), torch.ones(2, 4, dtype=torch.bool))
    assert torch.equal(aligned, image)


@pytest.mark.parametrize("pooling", ["attention", "mean"])
def test_film_depends_on_the_query_but_not_on_padding(pooling):
    """Changing real query tokens changes the output; changing padded tokens does not."""
    film = FiLM(8, pooling)
    _perturb_last_layers(film)
    image, text = torch.randn(2, 5, 8), torch.randn(2, 4, 8)
    mask = torch.tensor([[True, True, False, False], [True, True, True, False]])
    reference = film(image, text, mask)
    padded_changed = text.clone()
    padded_changed[0, 2:] += 10.0
    padded_changed[1, 3] -= 10.0
    assert torch.allclose(film(image, padded_changed, mask), reference, atol=1e-6)
    real_changed = text.clone()
    real_changed[:, 0] += 1.0
    assert not torch.allclose(film(image, real_changed, mask), reference, atol=1e-4)


def test_attention_pooling_modulates_tokens_differently_mean_pooling_uniformly():
    """Attention gives each image token its own scale/shift; mean gives one per query."""
    image, text = torch.randn(1, 6, 8), torch.randn(1, 4, 8)
    mask = torch.ones(1, 4, dtype=torch.bool)
    attention, mean = FiLM(8, "attention"), FiLM(8, "mean")
    assert attention.pool_text(image, text, mask).shape == (1, 6, 8)
    pooled = attention.pool_text(image, text, mask)
    assert not torch.allclose(pooled[0, 0], pooled[0, 1])
    assert mean.pool_text(image, text, mask).shape == (1, 1, 8)


def test_film_gives_finite_output_for_a_query_that_is_all_padding():
    """A degenerate (empty) query must not produce NaN."""
    film = FiLM(8, "attention")
    _perturb_last_layers(film)
    out = film(torch.randn(1, 3, 8), torch.randn(1, 4, 8), torch.zeros(1, 4, dtype=torch.bool))
    assert torch.isfinite(out).all()


def test_film_rejects_unknown_pooling_and_mismatched_batches():
    """Bad pooling names and batch mismatches raise ValueError naming them."""
    with pytest.raises(ValueError, match="'max'"):
        FiLM(8, "max")
    with pytest.raises(ValueError, match="batch mismatch"):
        FiLM(8)(torch.randn(2, 3, 8), torch.randn(1, 4, 8), torch.ones(1, 4, dtype=torch.bool))
