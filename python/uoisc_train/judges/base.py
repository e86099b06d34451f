"""The interface shared by the VQA judges behind the relevance loss and the answer match rate.

Paper Section III: the original and the reconstructed image are each paired
with the same query and passed through a VQA model; eq. 11 is the mean cosine
distance between their hidden states, token by token. The answer match rate
(Section IV) compares the answers the judge gives for both images.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["VqaJudge", "cosine_relevance_loss", "check_judge_inputs"]


def cosine_relevance_loss(hidden_original: torch.Tensor, hidden_reconstructed: torch.Tensor) -> torch.Tensor:
    """Eq. 11: ``1/T sum_t (1 - cos(h_t, h_hat_t))``, averaged over the batch.

    Args:
        hidden_original: ``N x T x D`` hidden states for the original images.
        hidden_reconstructed: the same shape, for the reconstructed images.

    Returns:
        A scalar in ``[0, 2]``.
    """
    if hidden_original.shape != hidden_reconstructed.shape:
        raise ValueError(f"hidden state shapes differ: {tuple(hidden_original.shape)} vs "
                         f"{tuple(hidden_reconstructed.shape)}")
    cosine = F.cosine_similarity(hidden_original, hidden_reconstructed, dim=-1, eps=1e-8)
    return (1.0 - cosine).mean()


def check_judge_inputs(images: torch.Tensor, questions: Sequence[str]) -> None:
    """Raise ValueError unless ``images`` is ``N x 3 x H x W`` and there are N questions."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images of shape {tuple(images.shape)}; expected N x 3 x H x W in [0, 1]")
    if isinstance(questions, str) or len(questions) != images.shape[0]:
        raise ValueError(f"need one question per image: {images.shape[0]} images, "
                         f"questions={questions!r}")


class VqaJudge(abc.ABC):
    """A VQA model that answers questions about images and exposes its fused hidden states.

    Images are always float tensors ``N x 3 x H x W`` with values in ``[0, 1]``
    (what the codec's decoder produces); each judge applies its own resizing
    and normalisation, differentiably, so that eq. 11 can be back-propagated
    to the reconstructed image.
    """

    @abc.abstractmethod
    def answer(self, images: torch.Tensor, questions: Sequence[str]) -> list[str]:
        """One answer string per (image, question) pair."""

    @abc.abstractmethod
    def hidden(self, images: torch.Tensor, questions: Sequence[str]) -> torch.Tensor:
        """Hidden states ``N x T x D`` of the image tokens after fusion with the question."""

    def relevance_loss(self, original: torch.Tensor, reconstructed: torch.Tensor,
                       questions: Sequence[str]) -> torch.Tensor:
        """User-intent relevance loss (eq. 11), differentiable w.r.t. ``reconstructed`` only."""
        with torch.no_grad():
            target = self.hidden(original, questions)
        return cosine_relevance_loss(target, self.hidden(reconstructed, questions))

    @torch.no_grad()
    def answer_match_rate(self, original: torch.Tensor, reconstructed: torch.Tensor,
                          questions: Sequence[str]) -> float:
        """Fraction of pairs whose answers for both images are identical (Section IV)."""
        before = self.answer(original, questions)
        after = self.answer(reconstructed, questions)
        return sum(a == b for a, b in zip(before, after)) / len(before)
