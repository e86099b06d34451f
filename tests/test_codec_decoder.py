"""Tests of the skip-fusion decoder (eq. 10): sizes for tiny and ViT-B/16 grids, skips used."""

import pytest
import torch

from uoisc_train.codec.decoder import SkipFusionDecoder, tokens_to_map


def test_tokens_to_map_is_row_major():
    """Token t = r * g + c lands at row r, column c of the map."""
    tokens = torch.arange(2 * 6 * 3.0).view(2, 6, 3)
    with pytest.raises(ValueError, match="6 tokens"):
        tokens_to_map(tokens, 2)
    tokens = torch.arange(4 * 3.0).view(1, 4, 3)
    grid = tokens_to_map(tokens, 2)
    assert grid.shape == (1, 3, 2, 2)
    assert torch.equal(grid[0, :, 1, 0], tokens[0, 2])


@pytest.mark.parametrize("n_layers, grid, image", [
    (3, 8, 64),     # tiny: patch 8, 8 -> 16 -> 32 -> 64
    (4, 14, 224),   # ViT-B/16: 14 -> 28 -> 56 -> 112 -> 224
    (2, 8, 64),     # 8 -> 32: the final bilinear resize brings it to 64
    (1, 4, 12),     # non-power-of-two ratio
])
def test_decoder_output_size_and_range(n_layers, grid, image):
    """Any grid/layer count decodes to N x 3 x image x image with values in [0, 1]."""
    decoder = SkipFusionDecoder(n_layers, embed_dim=8, channels=4, grid_size=grid, image_size=image)
    out = decoder(torch.randn(2, n_layers, grid * grid, 8))
    assert out.shape == (2, 3, image, image)
    assert out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1


def test_every_layer_reaches_the_image():
    """The skip fusion uses every selected layer: each one's embeddings get gradient."""
    decoder = SkipFusionDecoder(3, embed_dim=8, channels=4, grid_size=4, image_size=32)
    embeddings = torch.randn(1, 3, 16, 8, requires_grad=True)
    decoder(embeddings).mean().backward()
    per_layer = embeddings.grad.abs().sum(dim=(0, 2, 3))
    assert (per_layer > 0).all()


def test_decoder_rejects_a_wrong_layer_count():
    """Embeddings for the wrong number of layers raise ValueError with the shape."""
    decoder = SkipFusionDecoder(2, embed_dim=8, channels=4, grid_size=4, image_size=16)
    with pytest.raises(ValueError, match=r"\(1, 3, 16, 8\)"):
        decoder(torch.randn(1, 3, 16, 8))
