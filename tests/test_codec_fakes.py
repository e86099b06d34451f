"""Small stand-ins for the frozen CLIP backbone and the VQA judge used by the codec tests.

They have the interfaces the codec depends on (``uoisc_train.codec.model.FeatureBackbone``
and ``uoisc_train.codec.losses.Judge``) with tiny random frozen weights, so the
codec tests run in milliseconds and do not depend on the trained artefacts.
The tests at the bottom check that the fakes honour those interfaces.
"""

import torch
from torch import nn

from uoisc_train.codec import CodecConfig

START_TOKEN, END_TOKEN = 49406, 49407   # open_clip's <start_of_text>, <end_of_text>


class FakeBackbone(nn.Module):
    """Frozen random "ViT": patch embedding + residual token MLPs; text: embedding + MLP."""

    def __init__(self, layers=(1, 2, 3), image_size=32, patch=8, image_width=24, text_width=16):
        super().__init__()
        self.layers = tuple(layers)
        self.image_size = (image_size, image_size)
        self.grid_size = (image_size // patch, image_size // patch)
        self.image_width, self.text_width = image_width, text_width
        self.patch = nn.Conv2d(3, image_width, patch, stride=patch)
        self.blocks = nn.ModuleList(nn.Linear(image_width, image_width) for _ in range(max(layers)))
        self.text_embedding = nn.Embedding(997, text_width)
        self.text_mlp = nn.Linear(text_width, text_width)
        self.requires_grad_(False)

    def normalize(self, images):
        return (images - 0.5) / 0.25

    def image_layer_features(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2)
        out = []
        for number, block in enumerate(self.blocks, start=1):
            x = x + torch.tanh(block(x))
            if number in self.layers:
                out.append(x)
        return out

    def text_token_features(self, token_ids):
        return torch.tanh(self.text_mlp(self.text_embedding(token_ids % 997)))

    @staticmethod
    def text_token_mask(token_ids):
        return token_ids != 0


class FakeJudge(nn.Module):
    """Frozen random VQA stand-in: conv features of the image plus a question embedding."""

    def __init__(self, width=8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 4, stride=4)
        self.question = nn.Embedding(7, width)
        self.requires_grad_(False)

    def hidden(self, images, questions):
        tokens = self.conv(images).flatten(2).transpose(1, 2)
        ids = torch.tensor([len(q) % 7 for q in questions])
        return torch.tanh(tokens + self.question(ids).unsqueeze(1))


def tiny_config(**changes) -> CodecConfig:
    """A codec config matching ``FakeBackbone()``: 32x32 images, 4x4 grid, 3 layers."""
    base = dict(backbone="fake", layers=(1, 2, 3), image_size=32, grid_size=4, shared_dim=16,
                segment_length=4, codebook_size=16, decoder_channels=8)
    base.update(changes)
    return CodecConfig(**base)


def make_token_ids(n, context_length=12, seed=0):
    """``n`` open_clip-like queries: start, 2..6 random tokens, end, zero padding."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.zeros(n, context_length, dtype=torch.long)
    for row in range(n):
        length = int(torch.randint(2, 7, (1,), generator=generator))
        ids[row, 0] = START_TOKEN
        ids[row, 1:length + 1] = torch.randint(1, 49000, (length,), generator=generator)
        ids[row, length + 1] = END_TOKEN
    return ids


def test_fake_backbone_gives_the_documented_shapes():
    """FakeBackbone returns one N x T x D feature per selected layer and N x L x D text."""
    backbone = FakeBackbone(layers=(1, 3))
    features = backbone.image_layer_features(torch.rand(2, 3, 32, 32))
    assert [tuple(f.shape) for f in features] == [(2, 16, 24)] * 2
    assert tuple(backbone.text_token_features(make_token_ids(2)).shape) == (2, 12, 16)
    assert not any(p.requires_grad for p in backbone.parameters())


def test_fake_judge_is_differentiable_wrt_images():
    """FakeJudge.hidden gives N x T x D and passes gradients to the images."""
    images = torch.rand(2, 3, 32, 32, requires_grad=True)
    hidden = FakeJudge().hidden(images, ["what colour?", "is there a star?"])
    assert tuple(hidden.shape) == (2, 64, 8)
    hidden.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
