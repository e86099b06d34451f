"""Tests of the training losses (eqs. 11-15) and of one Phase I optimisation step."""

import math

import pytest
import torch

from test_codec_fakes import FakeBackbone, FakeJudge, make_token_ids, tiny_config
from uoisc_train.codec import (UOISC, PatchDiscriminator, discriminator_loss,
                               generator_adversarial_loss, mse_loss, phase_one_loss,
                               phase_two_generator_loss, relevance_loss)

QUESTIONS = ["what colour is the star?", "how many circles are there?"]


def test_relevance_loss_is_zero_for_identical_images_and_bounded():
    """Eq. 11: 0 when the reconstruction equals the original, within [0, 2] otherwise."""
    judge, images = FakeJudge(), torch.rand(2, 3, 32, 32)
    assert relevance_loss(judge, images, images.clone(), QUESTIONS).item() == pytest.approx(0, abs=1e-6)
    other = relevance_loss(judge, images, torch.rand(2, 3, 32, 32), QUESTIONS).item()
    assert 0 < other <= 2


def test_relevance_loss_matches_the_per_token_cosine_definition():
    """Eq. 11 = mean over batch and tokens of 1 - <h, h_hat> / (|h| |h_hat|)."""
    judge = FakeJudge()
    images, x_hat = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    h, h_hat = judge.hidden(images, QUESTIONS), judge.hidden(x_hat, QUESTIONS)
    expected = 1 - ((h * h_hat).sum(-1) / (h.norm(dim=-1) * h_hat.norm(dim=-1))).mean()
    assert relevance_loss(judge, images, x_hat, QUESTIONS).item() == pytest.approx(expected.item(), rel=1e-5)


def test_relevance_gradient_reaches_the_reconstruction_only():
    """The original's hidden states are a fixed target; the reconstruction gets gradient."""
    images = torch.rand(2, 3, 32, 32, requires_grad=True)
    x_hat = torch.rand(2, 3, 32, 32, requires_grad=True)
    relevance_loss(FakeJudge(), images, x_hat, QUESTIONS).backward()
    assert images.grad is None
    assert x_hat.grad.abs().sum() > 0


def test_mse_loss_checks_shapes():
    """MSE is the mean squared error and refuses mismatched shapes."""
    assert mse_loss(torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)).item() == 0.25
    with pytest.raises(ValueError, match="differ"):
        mse_loss(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 4, 4))


def test_patch_discriminator_gives_one_logit_per_patch():
    """A 64x64 image gives a grid of logits (PatchGAN), 32x32 a smaller one."""
    discriminator = PatchDiscriminator(channels=8)
    assert discriminator(torch.rand(2, 3, 64, 64)).shape == (2, 1, 14, 14)
    assert discriminator(torch.rand(1, 3, 32, 32)).shape == (1, 1, 6, 6)


def test_adversarial_losses_have_their_closed_form_values():
    """With D's logits = 0 (D = 1/2 everywhere): L_adv = log 2, L_D = 2 log 2 (eqs. 14-15)."""
    class Undecided(torch.nn.Module):
        def forward(self, images):
            return images[:, :1] * 0.0

    images = torch.rand(2, 3, 8, 8)
    assert generator_adversarial_loss(torch.zeros(2, 1, 3, 3)).item() == pytest.approx(math.log(2))
    assert discriminator_loss(Undecided(), images, images).item() == pytest.approx(2 * math.log(2))


def test_discriminator_loss_does_not_reach_the_generator():
    """Eq. 15 updates D only: x_hat is detached inside."""
    x_hat = torch.rand(1, 3, 32, 32, requires_grad=True)
    loss = discriminator_loss(PatchDiscriminator(8), torch.rand(1, 3, 32, 32), x_hat)
    loss.backward()
    assert x_hat.grad is None


def test_phase_one_total_is_the_weighted_sum():
    """Eq. 13: loss = vq + lambda_1 mse + lambda_2 relevance; lambda_2 = 0 skips the judge."""
    torch.manual_seed(0)
    config = tiny_config(lambda_mse=2.0, lambda_relevance=0.5)
    model = UOISC(config, backbone=FakeBackbone())
    images, tokens = torch.rand(2, 3, 32, 32), make_token_ids(2)
    terms = phase_one_loss(model(images, tokens), images, config, FakeJudge(), QUESTIONS)
    expected = terms["vq"] + 2.0 * terms["mse"] + 0.5 * terms["relevance"]
    assert terms["loss"].item() == pytest.approx(expected.item())
    no_judge = config.replace(lambda_relevance=0.0)
    assert phase_one_loss(model(images, tokens), images, no_judge)["relevance"].item() == 0
    with pytest.raises(ValueError, match="needs a judge"):
        phase_one_loss(model(images, tokens), images, config)


def test_phase_two_adds_the_weighted_adversarial_term():
    """Eq. 14: L_II = L_I + lambda_3 L_adv."""
    torch.manual_seed(0)
    config = tiny_config(lambda_adversarial=0.7, lambda_relevance=0.0)
    model = UOISC(config, backbone=FakeBackbone())
    images, tokens = torch.rand(2, 3, 32, 32), make_token_ids(2)
    outputs = model(images, tokens)
    terms = phase_two_generator_loss(outputs, images, config, PatchDiscriminator(8))
    phase_one = phase_one_loss(outputs, images, config)["loss"]
    assert terms["loss"].item() == pytest.approx(phase_one.item() + 0.7 * terms["adversarial"].item())


def test_one_optimisation_step_reduces_the_phase_one_loss():
    """On a fixed batch and seed, one Adam step on the codec's trainable parameters
    lowers eq. 13 (all three terms active), measured in the same (train) mode."""
    torch.manual_seed(0)
    config = tiny_config(lambda_relevance=1.0)
    model = UOISC(config, backbone=FakeBackbone()).train()
    judge = FakeJudge()
    images, tokens = torch.rand(4, 3, 32, 32), make_token_ids(4)
    questions = QUESTIONS * 2
    model.restart_dead_codes(model(images, tokens)["aligned"])    # data-initialised codebooks
    optimiser = torch.optim.Adam(model.trainable_parameters(), lr=1e-3)
    before = phase_one_loss(model(images, tokens), images, config, judge, questions)["loss"]
    optimiser.zero_grad()
    before.backward()
    optimiser.step()
    with torch.no_grad():
        after = phase_one_loss(model(images, tokens), images, config, judge, questions)["loss"]
    assert after.item() < before.item()


def test_relevance_loss_with_the_tiny_vqa_judge_agrees_with_the_judges_own_eq_11():
    """With the project's TinyVqaJudge (random init, eval, frozen) the codec's eq. 11 equals
    uoisc_train.judges.cosine_relevance_loss on the same hidden states, and is differentiable
    w.r.t. the reconstruction."""
    from uoisc_train import judges
    from uoisc_train.world import ANSWERS
    torch.manual_seed(0)
    judge = judges.TinyVqaJudge(judges.TinyJudgeConfig(answers=tuple(ANSWERS))).eval()
    judge.requires_grad_(False)
    images = torch.rand(2, 3, 64, 64)
    x_hat = torch.rand(2, 3, 64, 64, requires_grad=True)
    loss = relevance_loss(judge, images, x_hat, QUESTIONS)
    expected = judges.cosine_relevance_loss(judge.hidden(images, QUESTIONS),
                                            judge.hidden(x_hat, QUESTIONS))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert x_hat.grad.abs().sum() > 0
