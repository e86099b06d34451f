"""Feature-wise linear modulation of image tokens by the query (paper eqs. 3-4).

Eq. 3 turns the projected text features into a scale matrix ``Gamma`` and a
shift matrix ``B`` with two MLPs; eq. 4 aligns the image features as
``A = Gamma * P + B`` (element-wise). ``Gamma`` and ``B`` must therefore have
one row per *image* token while the query has its own number of tokens
(padded to the tokenizer's context length), so the text tokens are pooled
first. Two poolings are offered:

* ``"attention"`` (default): each image token attends over the real query
  tokens (scaled dot-product on learned query/key maps, padding masked), so
  every image token gets its own pooled text vector and the scale/shift
  matrices vary over the image, as eq. 3's matrices do. Why the default: the
  point of the query is to favour the *regions* the user asks about, and a
  modulation shared by all tokens can only re-weight channels, not places.
* ``"mean"``: masked mean over the real query tokens (start and end tokens
  included, padding excluded): one vector per query, the classic FiLM
  conditioning; cheaper, kept as an ablation.

The scale is predicted as ``1 + delta`` with the last layer of both MLPs
initialised to zero, so at initialisation FiLM is the identity and training
starts from the plain image projection.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from uoisc_train.codec.config import TEXT_POOLINGS

__all__ = ["FiLM", "masked_mean"]


def masked_mean(features: Tensor, mask: Tensor) -> Tensor:
    """Mean over the tokens where ``mask`` is True.

    Args:
        features: ``N x L x D``.
        mask: ``N x L`` bool, True for real tokens.

    Returns:
        ``N x 1 x D``; a query without any real token gives zeros.
    """
    weights = mask.to(features.dtype).unsqueeze(-1)
    total = (features * weights).sum(dim=1, keepdim=True)
    return total / weights.sum(dim=1, keepdim=True).clamp_min(1.0)


def _mlp(dim: int) -> nn.Sequential:
    net = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


class FiLM(nn.Module):
    """Text-conditioned scale and shift of projected image tokens.

    Args:
        dim: shared dimension ``D`` of image and text features.
        pooling: ``"attention"`` or ``"mean"`` (see the module docstring).
    """

    def __init__(self, dim: int, pooling: str = "attention"):
        super().__init__()
        if pooling not in TEXT_POOLINGS:
            raise ValueError(f"pooling={pooling!r} must be one of {TEXT_POOLINGS}")
        self.pooling = pooling
        if pooling == "attention":
            self.query = nn.Linear(dim, dim, bias=False)
            self.key = nn.Linear(dim, dim, bias=False)
        self.scale_mlp = _mlp(dim)   # MLP with parameters phi_l in eq. 3
        self.shift_mlp = _mlp(dim)   # MLP with parameters psi_l in eq. 3

    def pool_text(self, image: Tensor, text: Tensor, text_mask: Tensor) -> Tensor:
        """Pooled text feature per image token: ``N x T x D`` (or ``N x 1 x D`` for mean)."""
        if self.pooling == "mean":
            return masked_mean(text, text_mask)
        scores = self.query(image) @ self.key(text).transpose(1, 2) / math.sqrt(image.shape[-1])
        # A finite fill (not -inf) keeps an all-padding query from producing NaN.
        scores = scores.masked_fill(~text_mask.unsqueeze(1), torch.finfo(scores.dtype).min)
        return torch.softmax(scores, dim=-1) @ text

    def forward(self, image: Tensor, text: Tensor, text_mask: Tensor) -> Tensor:
        """Eqs. 3-4: ``A = (1 + delta_Gamma) * P + B``.

        Args:
            image: projected image tokens ``P``, ``N x T x D``.
            text: projected text tokens, ``N x L_t x D``.
            text_mask: ``N x L_t`` bool, True for real (non-padding) tokens.

        Returns:
            Aligned features ``A``, ``N x T x D``.
        """
        if image.shape[0] != text.shape[0] or text.shape[:2] != text_mask.shape:
            raise ValueError(f"batch mismatch: image {tuple(image.shape)}, text "
                             f"{tuple(text.shape)}, mask {tuple(text_mask.shape)}")
        pooled = self.pool_text(image, text, text_mask.bool())
        return (1.0 + self.scale_mlp(pooled)) * image + self.shift_mlp(pooled)
