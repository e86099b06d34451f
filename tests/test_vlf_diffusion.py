"""Tests of the VLF-MSC image receiver's conditional DDPM (``uoisc_train.vlf.diffusion*``).

A tiny config (8x8 samples, 6-d features, 50 timesteps) keeps every test well under a second.
"""

import math

import pytest
import torch

from uoisc_train.vlf.diffusion import FeatureToImageDiffusion, as_generator
from uoisc_train.vlf.diffusion_config import DiffusionConfig
from uoisc_train.vlf.diffusion_schedule import NoiseSchedule, make_betas

TINY = DiffusionConfig(feature_dim=6, image_size=16, sample_size=8, channels=(8, 16),
                       attention_levels=(1,), embed_dim=16, groups=4, timesteps=50)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models on a shared, loaded machine: one thread avoids oversubscription stalls."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def randomised(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """The model with every parameter redrawn (the zero-initialised output layers would
    otherwise make every prediction 0 and hide differences between code paths)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


def test_config_json_round_trip_keeps_every_field():
    """to_json/from_json gives back an equal config, tuples included."""
    config = TINY.replace(beta_schedule="linear", p_uncond=0.25, attention_levels=(0, 1))
    again = DiffusionConfig.from_json(config.to_json())
    assert again == config
    assert isinstance(again.channels, tuple) and isinstance(again.attention_levels, tuple)


@pytest.mark.parametrize("changes, field", [
    ({"groups": 3}, "groups"),
    ({"sample_size": 12}, "sample_size"),
    ({"sample_size": 6, "image_size": 12, "channels": (8, 16, 16)}, "sample_size"),
    ({"p_uncond": 1.0}, "p_uncond"),
    ({"beta_schedule": "quadratic"}, "beta_schedule"),
    ({"attention_levels": (2,)}, "attention_levels"),
    ({"channels": ()}, "channels"),
    ({"beta_start": 0.05}, "beta_start"),
    ({"timesteps": 0}, "timesteps"),
    ({"feature_dim": True}, "feature_dim"),
])
def test_config_rejects_bad_values_naming_the_field(changes, field):
    """Each invalid value raises ValueError whose message names the offending field."""
    with pytest.raises(ValueError, match=field):
        TINY.replace(**changes)


def test_config_from_dict_rejects_unknown_keys():
    """A misspelt key is an error, not silently ignored."""
    with pytest.raises(ValueError, match="chanels"):
        DiffusionConfig.from_dict({**TINY.to_dict(), "chanels": [8]})


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_alpha_bar_decreases_strictly_inside_zero_one(schedule):
    """alpha_bar_t is a product of (1 - beta) with 0 < beta < 1: strictly decreasing in (0, 1)."""
    schedule_ = NoiseSchedule(TINY.replace(beta_schedule=schedule))
    alpha_bar = schedule_.alpha_bar
    assert len(make_betas(TINY)) == TINY.timesteps
    assert ((alpha_bar > 0) & (alpha_bar < 1)).all()
    assert (alpha_bar[1:] < alpha_bar[:-1]).all()


def test_ddim_step_with_the_true_noise_recovers_x0():
    """x_t built from (x0, eps) and stepped to t_prev = -1 with that same eps is x0 (DDIM algebra)."""
    schedule = NoiseSchedule(TINY)
    generator = torch.Generator().manual_seed(1)
    x0 = torch.rand(3, 3, 8, 8, generator=generator) * 2 - 1
    eps = torch.randn(3, 3, 8, 8, generator=generator)
    t = torch.tensor([30, 30, 30])
    x_t = schedule.add_noise(x0, eps, t)
    torch.testing.assert_close(schedule.ddim_step(x_t, eps, 30, -1), x0, atol=1e-4, rtol=0)
    # To an intermediate step: exactly the forward process at t_prev with the same eps.
    torch.testing.assert_close(schedule.ddim_step(x_t, eps, 30, 10),
                               schedule.add_noise(x0, eps, torch.tensor([10, 10, 10])), atol=1e-4, rtol=0)


def test_ddim_timesteps_span_the_process_and_reject_bad_counts():
    """Timesteps go from T-1 down to 0, strictly decreasing; 0 or > T steps are refused."""
    steps = NoiseSchedule(TINY).ddim_timesteps(10)
    assert steps[0] == TINY.timesteps - 1 and steps[-1] == 0 and len(steps) == 10
    assert all(a > b for a, b in zip(steps, steps[1:]))
    for bad in (0, TINY.timesteps + 1):
        with pytest.raises(ValueError, match="steps"):
            NoiseSchedule(TINY).ddim_timesteps(bad)


def test_unet_predicts_noise_of_the_sample_shape():
    """eps_theta maps N x 3 x S x S (+ t, N x E) to N x 3 x S x S; a wrong feature width is refused."""
    model = FeatureToImageDiffusion(TINY)
    x, t = torch.randn(5, 3, 8, 8), torch.randint(0, 50, (5,))
    assert model.unet(x, t, torch.randn(5, 6)).shape == (5, 3, 8, 8)
    with pytest.raises(ValueError, match="feature"):
        model.unet(x, t, torch.randn(5, 7))


def test_loss_decreases_on_a_fixed_batch():
    """A few Adam steps on one batch (same timesteps and noise each step) lower the eps-MSE."""
    torch.manual_seed(0)
    model = FeatureToImageDiffusion(TINY.replace(p_uncond=0.0)).train()
    images, features = torch.rand(8, 3, 16, 16), torch.randn(8, 6)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = model(images, features, torch.Generator().manual_seed(7))["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    # The zero-initialised head starts at eps_hat = 0, i.e. a loss of E[eps^2] ~ 1.
    assert losses[0] == pytest.approx(1.0, abs=0.3)
    assert losses[-1] < 0.7 * losses[0]


def test_guidance_dropout_follows_p_uncond_in_training_only():
    """In training, about p_uncond of the batch uses the null vector; in eval mode none does."""
    model = FeatureToImageDiffusion(TINY.replace(p_uncond=0.5))
    images, features = torch.rand(400, 3, 16, 16), torch.randn(400, 6)
    dropped = model.train()(images, features, torch.Generator().manual_seed(0))["uncond"]
    # Binomial(400, 0.5): 5 standard deviations are +-50.
    assert abs(dropped.sum().item() - 200) < 50
    assert model.eval()(images, features, torch.Generator().manual_seed(0))["uncond"].sum() == 0


def test_null_branch_ignores_the_feature_and_conditional_branch_uses_it():
    """uncond = 1 replaces the feature by the learned null vector: the output no longer
    depends on the feature; with uncond = 0 it does."""
    model = randomised(FeatureToImageDiffusion(TINY))
    x, t = torch.randn(2, 3, 8, 8), torch.tensor([5, 40])
    f1, f2 = torch.randn(2, 6), torch.randn(2, 6)
    ones = torch.ones(2)
    torch.testing.assert_close(model.unet(x, t, f1, ones), model.unet(x, t, f2, ones))
    torch.testing.assert_close(model.unet(x, t, f1, ones),
                               model.unet(x, t, model.unet.null_feature.expand(2, 6)))
    assert not torch.allclose(model.unet(x, t, f1, torch.zeros(2)), model.unet(x, t, f2, torch.zeros(2)))


def test_guidance_one_is_the_conditional_prediction_and_w_mixes_both_branches():
    """w = 1 returns eps(x, t, f); any w returns eps_null + w (eps_f - eps_null)."""
    model = randomised(FeatureToImageDiffusion(TINY))
    x, t, f = torch.randn(3, 3, 8, 8), torch.tensor([1, 20, 49]), torch.randn(3, 6)
    conditional = model.unet(x, t, f)
    unconditional = model.unet(x, t, f, torch.ones(3))
    torch.testing.assert_close(model.guided_eps(x, t, f, 1.0), conditional)
    torch.testing.assert_close(model.guided_eps(x, t, f, 3.0),
                               unconditional + 3.0 * (conditional - unconditional), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(model.guided_eps(x, t, f, 0.0), unconditional, atol=1e-5, rtol=1e-5)


def test_sampling_is_deterministic_per_seed_and_differs_across_seeds():
    """Same features and seed: identical images; another seed: other images. Output is N x 3 x H x W in [0, 1]."""
    model = randomised(FeatureToImageDiffusion(TINY))
    features = torch.randn(2, 6)
    first = model.sample(features, steps=4, guidance=2.0, seed=3)
    assert first.shape == (2, 3, 16, 16)
    assert first.min() >= 0 and first.max() <= 1
    torch.testing.assert_close(model.sample(features, steps=4, guidance=2.0, seed=3), first, atol=0, rtol=0)
    torch.testing.assert_close(model.sample(features, steps=4, guidance=2.0,
                                            seed=torch.Generator().manual_seed(3)), first, atol=0, rtol=0)
    assert not torch.allclose(model.sample(features, steps=4, guidance=2.0, seed=4), first)


def test_sample_rejects_bad_arguments():
    """Wrong feature width, negative guidance and a bad seed raise ValueError naming them."""
    model = FeatureToImageDiffusion(TINY)
    with pytest.raises(ValueError, match="features"):
        model.sample(torch.randn(2, 5))
    with pytest.raises(ValueError, match="guidance"):
        model.sample(torch.randn(2, 6), guidance=-1.0)
    with pytest.raises(ValueError, match="guidance"):
        model.sample(torch.randn(2, 6), guidance=math.nan)
    with pytest.raises(ValueError, match="seed"):
        as_generator(-1)
