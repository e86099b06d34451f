"""Per-layer MLP projections into the shared embedding space (paper eqs. 1-2).

Each selected ViT layer ``l`` gets its own image projection ``f_l`` and its
own text projection ``g_l``, both to the shared dimension ``D``; the frozen
CLIP features are never modified.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["FeatureProjection", "LayerProjections"]


class FeatureProjection(nn.Module):
    """LayerNorm -> Linear -> GELU -> Linear, applied to every token.

    The LayerNorm comes first because the intermediate ViT hidden states are
    the raw residual stream (no final LayerNorm), whose scale grows with depth
    and has outlier channels in large CLIPs; normalising keeps the MLP input
    well scaled for every selected layer.

    Args:
        in_dim: width of the incoming token features.
        out_dim: shared dimension ``D``.
        hidden_dim: hidden width of the MLP (default ``max(in_dim, out_dim)``).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int | None = None):
        super().__init__()
        if in_dim < 1 or out_dim < 1:
            raise ValueError(f"in_dim={in_dim} and out_dim={out_dim} must be positive")
        hidden_dim = hidden_dim or max(in_dim, out_dim)
        self.net = nn.Sequential(
            nn.LayerNorm(in_dim),
            nn.Linear(in_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, out_dim),
        )

    def forward(self, features: Tensor) -> Tensor:
        """``... x in_dim`` -> ``... x out_dim``."""
        return self.net(features)


class LayerProjections(nn.Module):
    """The image projections ``f_l`` (eq. 1) and text projections ``g_l`` (eq. 2).

    Args:
        n_layers: number of selected ViT layers |L|.
        image_dim: width of the image layer features.
        text_dim: width of the text token features; ``None`` builds no text
            projections (the "no text alignment" baseline).
        shared_dim: shared dimension ``D``.
    """

    def __init__(self, n_layers: int, image_dim: int, text_dim: int | None, shared_dim: int):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers={n_layers} must be >= 1")
        self.image = nn.ModuleList(FeatureProjection(image_dim, shared_dim) for _ in range(n_layers))
        self.text = None if text_dim is None else nn.ModuleList(
            FeatureProjection(text_dim, shared_dim) for _ in range(n_layers))

    def project_image(self, layer: int, features: Tensor) -> Tensor:
        """Eq. 1: ``N x T x D_img`` -> ``N x T x D`` for selected layer number ``layer`` (0-based)."""
        return self.image[layer](features)

    def project_text(self, layer: int, features: Tensor) -> Tensor:
        """Eq. 2: ``N x L_t x D_text`` -> ``N x L_t x D`` for selected layer number ``layer``."""
        if self.text is None:
            raise ValueError("this codec has no text projections (text_alignment=False)")
        return self.text[layer](features)
