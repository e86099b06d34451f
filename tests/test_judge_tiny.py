"""The tiny VQA judge: shapes, gradients of the relevance loss (eq. 11), answers, bad input."""

import pytest
import torch

from uoisc_train.judges import TinyJudgeConfig, TinyVqaJudge, cosine_relevance_loss
from uoisc_train.world import ANSWERS

QUESTIONS = ["What colour is the circle?", "How many stars are there?"]


@pytest.fixture(scope="module")
def judge():
    torch.manual_seed(0)
    return TinyVqaJudge(TinyJudgeConfig(answers=tuple(ANSWERS))).eval()


def test_forward_shapes(judge):
    """forward gives logits over the answer vocabulary and (image_size/8)^2 hidden tokens of width D."""
    images = torch.rand(2, 3, 64, 64)
    out = judge(images, judge.tokenize(QUESTIONS))
    assert out["logits"].shape == (2, len(ANSWERS))
    assert out["hidden"].shape == (2, 64, judge.config.width)


def test_hidden_depends_on_question(judge):
    """The fused hidden states change with the question (FiLM), unlike a question-blind encoder."""
    images = torch.rand(1, 3, 64, 64).repeat(2, 1, 1, 1)
    hidden = judge.hidden(images, QUESTIONS)
    assert not torch.allclose(hidden[0], hidden[1])


def test_relevance_loss_zero_for_identical_and_grad_to_reconstruction(judge):
    """Eq. 11 is 0 for identical images, > 0 otherwise, and differentiable w.r.t. the reconstruction only."""
    original = torch.rand(2, 3, 64, 64)
    assert judge.relevance_loss(original, original.clone(), QUESTIONS).item() == pytest.approx(0.0, abs=1e-6)
    reconstructed = (original * 0.5).requires_grad_(True)
    loss = judge.relevance_loss(original, reconstructed, QUESTIONS)
    assert 0 < loss.item() <= 2
    loss.backward()
    assert reconstructed.grad.abs().sum() > 0


def test_backward_trains_every_parameter(judge):
    """A classification loss reaches every parameter (no dead branch in the architecture)."""
    judge.zero_grad()
    out = judge(torch.rand(4, 3, 64, 64), judge.tokenize(QUESTIONS * 2))
    torch.nn.functional.cross_entropy(out["logits"], torch.tensor([0, 1, 2, 3])).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in judge.parameters())


def test_answers_come_from_vocabulary_and_other_sizes_are_resized(judge):
    """answer() returns one vocabulary string per pair, also for 96x96 inputs (resized internally)."""
    answers = judge.answer(torch.rand(2, 3, 96, 96), QUESTIONS)
    assert len(answers) == 2 and set(answers) <= set(ANSWERS)


def test_cosine_relevance_loss_against_definition():
    """cosine_relevance_loss equals 1 - cos averaged over tokens and batch, computed independently."""
    a, b = torch.randn(3, 5, 8), torch.randn(3, 5, 8)
    expected = sum(1 - torch.dot(a[n, t], b[n, t]) / (a[n, t].norm() * b[n, t].norm())
                   for n in range(3) for t in range(5)) / 15
    assert cosine_relevance_loss(a, b).item() == pytest.approx(expected.item(), rel=1e-5)
    assert cosine_relevance_loss(a, -a).item() == pytest.approx(2.0, rel=1e-5)


@pytest.mark.parametrize("images, questions", [
    (torch.rand(2, 64, 64), QUESTIONS),
    (torch.rand(2, 1, 64, 64), QUESTIONS),
    (torch.rand(3, 3, 64, 64), QUESTIONS),
    (torch.rand(1, 3, 64, 64), "What colour is the circle?"),
])
def test_bad_inputs_raise_value_error(judge, images, questions):
    """Wrong image layout or a question count that differs from the image count is a ValueError."""
    with pytest.raises(ValueError):
        judge.answer(images, questions)


@pytest.mark.parametrize("bad", [dict(image_size=60), dict(answers=("yes",)), dict(answers=("a", "a")),
                                 dict(width=100)])
def test_bad_config_raises_value_error(bad):
    """Invalid configs are refused with ValueError naming the value."""
    with pytest.raises(ValueError):
        TinyJudgeConfig(**{"answers": ("no", "yes"), **bad})


def test_shape_logits_only_with_auxiliary_head():
    """With config.shapes the judge gives per-cell shape logits at stride 4; without, asking raises ValueError."""
    with_head = TinyVqaJudge(TinyJudgeConfig(answers=tuple(ANSWERS), shapes=("circle", "star")))
    out = with_head(torch.rand(2, 3, 64, 64), with_head.tokenize(QUESTIONS), with_shape_logits=True)
    assert out["shape_logits"].shape == (2, 3, 16, 16)
    plain = TinyVqaJudge(TinyJudgeConfig(answers=tuple(ANSWERS)))
    with pytest.raises(ValueError, match="shapes"):
        plain(torch.rand(1, 3, 64, 64), plain.tokenize(QUESTIONS[:1]), with_shape_logits=True)


def test_config_round_trips_through_dict():
    """to_dict/from_dict give back an equal config (what the model folder stores)."""
    config = TinyJudgeConfig(answers=tuple(ANSWERS), shapes=("circle", "star"), width=64)
    assert TinyJudgeConfig.from_dict(config.to_dict()) == config
