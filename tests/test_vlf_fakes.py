"""A small stand-in for the frozen CLIP backbone of the VLF-MSC transmitter tests.

It has the part of ``ClipBackbone``'s interface the transmitter uses (``normalize``,
``image_embedding``, ``text_token_features``, ``text_token_mask``, ``embed_dim``,
``text_width``, ``image_size``) with tiny random frozen weights, so the tests run in
milliseconds and export to ONNX without open_clip.
"""

import torch
from torch import nn


class FakeEmbeddingBackbone(nn.Module):
    """Frozen random conv + linear image tower with a unit-norm output; text: embedding + MLP."""

    def __init__(self, embed_dim=16, image_size=32, text_width=12, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.embed_dim, self.text_width = embed_dim, text_width
        self.image_size = (image_size, image_size)
        self.patch = nn.Conv2d(3, 8, 8, stride=8)
        self.projection = nn.Linear(8 * (image_size // 8) ** 2, embed_dim)
        self.text_embedding = nn.Embedding(997, text_width)
        self.text_mlp = nn.Linear(text_width, text_width)
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.25))
        self.context_length = 6
        self.requires_grad_(False)

    def normalize(self, images):
        return (images - self.mean) / self.std

    def tokenize(self, texts):
        """Word-length ids (1 + letters), zero padded to context_length: enough to vary the query."""
        ids = torch.zeros(len(texts), self.context_length, dtype=torch.int64)
        for row, text in zip(ids, texts):
            words = [1 + len(w) for w in text.split()][:self.context_length]
            row[:len(words)] = torch.tensor(words)
        return ids

    def image_embedding(self, images):
        hidden = torch.tanh(self.patch(images)).flatten(1)
        return nn.functional.normalize(self.projection(hidden), dim=-1)

    def text_token_features(self, token_ids):
        return torch.tanh(self.text_mlp(self.text_embedding(token_ids % 997)))

    @staticmethod
    def text_token_mask(token_ids):
        return token_ids != 0


def test_fake_backbone_gives_unit_norm_embeddings_of_embed_dim():
    """The fake's image_embedding is N x embed_dim with unit rows, as ClipBackbone's is."""
    backbone = FakeEmbeddingBackbone(embed_dim=16, image_size=32)
    feature = backbone.image_embedding(backbone.normalize(torch.rand(3, 3, 32, 32)))
    assert feature.shape == (3, 16)
    torch.testing.assert_close(feature.norm(dim=-1), torch.ones(3))


def test_fake_backbone_text_features_and_mask_shapes():
    """Text features are N x L x text_width and the mask marks non-zero ids."""
    backbone = FakeEmbeddingBackbone(text_width=12)
    ids = torch.tensor([[5, 7, 0, 0], [3, 0, 0, 0]])
    assert backbone.text_token_features(ids).shape == (2, 4, 12)
    assert backbone.text_token_mask(ids).sum().item() == 3


def test_fake_tokenize_pads_to_context_length():
    """tokenize gives N x context_length int64 with zeros after the words."""
    ids = FakeEmbeddingBackbone().tokenize(["a bb", "ccc"])
    assert ids.tolist() == [[2, 3, 0, 0, 0, 0], [4, 0, 0, 0, 0, 0]]
