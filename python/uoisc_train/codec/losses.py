"""Training losses of UO-ISC (paper Section III, eqs. 11-15).

* :func:`relevance_loss` - eq. 11, user-intent relevance through a VQA judge;
* :func:`phase_one_loss` - eq. 13, ``L_VQ + lambda_1 L_MSE + lambda_2 L_R``;
* :class:`PatchDiscriminator`, :func:`generator_adversarial_loss`,
  :func:`phase_two_generator_loss` (eq. 14) and :func:`discriminator_loss`
  (eq. 15) for Phase II.

The adversarial terms are the standard (non-saturating) GAN losses of
Goodfellow et al. written with logits: ``L_adv = -log D(x_hat)`` and
``L_D = -log D(x) - log(1 - D(x_hat))``, averaged over the PatchGAN's patches.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from uoisc_train.codec.config import CodecConfig
from uoisc_train.judges.base import cosine_relevance_loss

__all__ = ["Judge", "mse_loss", "relevance_loss", "phase_one_loss", "PatchDiscriminator",
           "generator_adversarial_loss", "discriminator_loss", "phase_two_generator_loss"]


class Judge(Protocol):
    """A VQA model whose hidden states define eq. 11 (``uoisc_train.judges``)."""

    def hidden(self, images: Tensor, questions: Any) -> Tensor:
        """``N x T x D`` hidden states, differentiable w.r.t. ``images``."""


def mse_loss(images: Tensor, x_hat: Tensor) -> Tensor:
    """Mean squared pixel error (the paper's L2 term, averaged over pixels)."""
    if images.shape != x_hat.shape:
        raise ValueError(f"images {tuple(images.shape)} and x_hat {tuple(x_hat.shape)} differ")
    return F.mse_loss(x_hat, images)


def relevance_loss(judge: Judge, images: Tensor, x_hat: Tensor, questions: Any) -> Tensor:
    """Eq. 11: mean over tokens of ``1 - cos(h_t, h_hat_t)``.

    The judge sees the original and the reconstructed image with the same
    question; the original's hidden states are a fixed target (no gradient),
    the reconstruction's carry the gradient back to the codec. The judge is a
    fixed, pretrained model: the caller puts it in eval mode and freezes its
    parameters (this function changes neither).

    Args:
        judge: object with ``hidden(images, questions) -> N x T x D``.
        images: originals ``N x 3 x H x W`` in [0, 1].
        x_hat: reconstructions, same shape.
        questions: whatever the judge takes for the queries (one per image).

    Returns:
        Scalar in [0, 2], averaged over the batch and the ``T`` tokens.
    """
    with torch.no_grad():
        target = judge.hidden(images, questions)
    hidden = judge.hidden(x_hat, questions)
    if hidden.ndim != 3:
        raise ValueError(f"judge hidden states of shape {tuple(hidden.shape)}; expected N x T x D")
    return cosine_relevance_loss(target, hidden)


def phase_one_loss(outputs: dict[str, Tensor], images: Tensor, config: CodecConfig,
                   judge: Judge | None = None, questions: Any = None) -> dict[str, Tensor]:
    """Eq. 13: ``L_I = L_VQ + lambda_1 * L_MSE + lambda_2 * L_R``.

    Args:
        outputs: ``UOISC.forward`` output (needs ``x_hat`` and ``vq_loss``).
        images: the originals.
        config: gives ``lambda_mse`` and ``lambda_relevance``.
        judge: needed when ``config.lambda_relevance > 0``; the term is skipped
            (and reported as 0) when the weight is 0.
        questions: the queries, passed to the judge.

    Returns:
        ``loss`` (the total) and the terms ``vq``, ``mse``, ``relevance``.
    """
    x_hat = outputs["x_hat"]
    mse = mse_loss(images, x_hat)
    if config.lambda_relevance > 0:
        if judge is None:
            raise ValueError(f"lambda_relevance={config.lambda_relevance} needs a judge")
        relevance = relevance_loss(judge, images, x_hat, questions)
    else:
        relevance = x_hat.new_zeros(())
    vq = outputs["vq_loss"]
    total = vq + config.lambda_mse * mse + config.lambda_relevance * relevance
    return {"loss": total, "vq": vq, "mse": mse, "relevance": relevance}


class PatchDiscriminator(nn.Module):
    """Small PatchGAN: one real/fake logit per overlapping image patch.

    ``n_layers`` stride-2 4x4 convs (InstanceNorm after the first), then a
    stride-1 conv and a 1-channel conv; with the default 2 layers each logit
    sees a 34x34 pixel receptive field, a fair "patch" for 64x64 images.

    Args:
        channels: width of the first conv (doubled at each stride-2 layer).
        n_layers: number of stride-2 layers (>= 1).
    """

    def __init__(self, channels: int = 32, n_layers: int = 2):
        super().__init__()
        if channels < 1 or n_layers < 1:
            raise ValueError(f"channels={channels} and n_layers={n_layers} must be >= 1")
        layers: list[nn.Module] = [nn.Conv2d(3, channels, 4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2)]
        width = channels
        for _ in range(n_layers - 1):
            layers += [nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
                       nn.InstanceNorm2d(2 * width, affine=True), nn.LeakyReLU(0.2)]
            width *= 2
        layers += [nn.Conv2d(width, 2 * width, 4, stride=1, padding=1),
                   nn.InstanceNorm2d(2 * width, affine=True), nn.LeakyReLU(0.2),
                   nn.Conv2d(2 * width, 1, 4, stride=1, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, images: Tensor) -> Tensor:
        """``N x 3 x H x W`` in [0, 1] -> ``N x 1 x h x w`` logits (one per patch)."""
        return self.net(images * 2.0 - 1.0)


def generator_adversarial_loss(fake_logits: Tensor) -> Tensor:
    """``L_adv = -log D(x_hat)`` (non-saturating), averaged over patches."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def discriminator_loss(discriminator: nn.Module, images: Tensor, x_hat: Tensor) -> Tensor:
    """Eq. 15: ``-log D(x) - log(1 - D(x_hat))``; ``x_hat`` is detached (codec fixed)."""
    real = discriminator(images)
    fake = discriminator(x_hat.detach())
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def phase_two_generator_loss(outputs: dict[str, Tensor], images: Tensor, config: CodecConfig,
                             discriminator: nn.Module, judge: Judge | None = None,
                             questions: Any = None) -> dict[str, Tensor]:
    """Eq. 14: ``L_II = L_I + lambda_3 * L_adv``.

    Only the codec should be stepped with this loss: the discriminator's
    parameters receive gradients too, so zero them before its own update
    (or freeze them while stepping the codec).

    Returns:
        The terms of :func:`phase_one_loss` plus ``adversarial``, with
        ``loss`` the Phase II total.
    """
    terms = phase_one_loss(outputs, images, config, judge, questions)
    adversarial = generator_adversarial_loss(discriminator(outputs["x_hat"]))
    terms["adversarial"] = adversarial
    terms["loss"] = terms["loss"] + config.lambda_adversarial * adversarial
    return terms
