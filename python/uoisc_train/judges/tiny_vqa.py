"""The tiny VQA judge of the offline world (plays nanoLLaVA's role, paper Sections III-IV).

A small CNN turns the image into an ``8 x 8`` grid of tokens; a one-layer
transformer encodes the question (open_clip BPE ids); FiLM blocks modulate the
image tokens with the question (Perez et al., FiLM, the classic recipe for
CLEVR-like "which object?" questions); a head reading the mean, the max and
a question-driven attention pooling of the tokens classifies over the world's
closed answer vocabulary. The modulated image tokens are the judge's
hidden states for the relevance loss (eq. 11), like LLaVA's hidden states at
the image-token positions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from uoisc_train.compat import import_open_clip
from uoisc_train.judges.base import VqaJudge, check_judge_inputs

__all__ = ["TinyJudgeConfig", "TinyVqaJudge"]


@dataclasses.dataclass(frozen=True)
class TinyJudgeConfig:
    """Architecture of :class:`TinyVqaJudge` (stored in the model folder's config.json).

    Args:
        answers: the closed answer vocabulary, in classifier order.
        image_size: side of the square input the CNN sees (inputs are resized to it).
        width: channels of the image tokens and of the fused hidden states.
        text_width: width of the question encoder (its token table dominates the size).
        context_length: question tokens kept (open_clip BPE, start/end included).
        film_blocks: number of question-conditioned residual blocks.
        vocab_size: open_clip's BPE vocabulary size.
        shapes: classes of the auxiliary per-cell shape classifier used in
            training (class 0 is background, then these shapes); empty: none.
    """

    answers: tuple[str, ...]
    image_size: int = 64
    width: int = 96
    text_width: int = 64
    context_length: int = 32
    film_blocks: int = 3
    vocab_size: int = 49408
    shapes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.image_size % 8:
            raise ValueError(f"image_size={self.image_size} must be a multiple of 8")
        if len(self.answers) < 2 or len(set(self.answers)) != len(self.answers):
            raise ValueError(f"answers={self.answers!r} must be >= 2 distinct strings")
        if self.width % 8 or self.text_width % 4:
            raise ValueError(f"width={self.width} must divide by 8, text_width={self.text_width} by 4")

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "answers": list(self.answers), "shapes": list(self.shapes)}

    @classmethod
    def from_dict(cls, values: dict) -> "TinyJudgeConfig":
        return cls(**{**values, "answers": tuple(values["answers"]), "shapes": tuple(values.get("shapes", ()))})


def _conv_block(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1),
                         nn.GroupNorm(8, out_channels), nn.SiLU())


class _FilmBlock(nn.Module):
    """Residual conv block whose normalised activations are scaled/shifted by the question."""

    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, 1, 1)
        self.norm = nn.GroupNorm(8, width, affine=False)
        self.film = nn.Linear(width, 2 * width)
        self.out = nn.Conv2d(width, width, 1)

    def forward(self, x: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(question)[:, :, None, None].chunk(2, dim=1)
        h = self.norm(self.conv(x)) * (1 + scale) + shift
        return x + self.out(F.silu(h))


class _QuestionEncoder(nn.Module):
    """Token embedding + one transformer layer + masked mean -> one vector per question."""

    def __init__(self, config: TinyJudgeConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.text_width)
        self.position = nn.Parameter(torch.zeros(config.context_length, config.text_width))
        nn.init.normal_(self.position, std=0.02)
        self.layer = nn.TransformerEncoderLayer(config.text_width, 4, 4 * config.text_width,
                                                dropout=0.0, batch_first=True, norm_first=True)
        self.out = nn.Sequential(nn.LayerNorm(config.text_width),
                                 nn.Linear(config.text_width, config.width), nn.SiLU())

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        padding = token_ids == 0
        x = self.layer(self.embedding(token_ids) + self.position, src_key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).float()
        return self.out((x * keep).sum(1) / keep.sum(1).clamp_min(1.0))


class TinyVqaJudge(nn.Module, VqaJudge):
    """Image + question -> answer over a closed vocabulary, with fused hidden states.

    ``forward(images, token_ids)`` returns ``dict(logits=N x A, hidden=N x T x D)``
    with ``T = (image_size/8)^2`` image tokens and ``D = width``. Images are
    ``N x 3 x H x W`` in ``[0, 1]``; other sizes are resized (bilinear).

    Training aid: with ``config.shapes`` set, ``forward(..., with_shape_logits=True)``
    also returns ``shape_logits`` (``N x (1+S) x H/4 x W/4``), a per-cell shape
    classifier on the question-free features. Supervising it with the
    generator's label maps teaches the shape detectors directly, which
    answer-only supervision learns very slowly; answers never use it.
    """

    def __init__(self, config: TinyJudgeConfig):
        super().__init__()
        self.config = config
        self.fine_encoder = nn.Sequential(_conv_block(3, 32, 2), _conv_block(32, 64, 2), _conv_block(64, 64, 1))
        self.coarse_encoder = _conv_block(64, config.width, 2)
        self.shape_head = nn.Conv2d(64, 1 + len(config.shapes), 1) if config.shapes else None
        grid = config.image_size // 8
        # Absolute position matters ("where is X?"): a learned embedding per grid cell.
        self.grid_position = nn.Parameter(torch.zeros(1, config.width, grid, grid))
        nn.init.normal_(self.grid_position, std=0.02)
        self.question_encoder = _QuestionEncoder(config)
        self.film_blocks = nn.ModuleList(_FilmBlock(config.width) for _ in range(config.film_blocks))
        # Question-driven attention over the tokens: a direct "where is X?" read-out,
        # whose sigmoid scores summed over the grid also give a count cue.
        self.attention_query = nn.Linear(config.width, config.width)
        self.attention_key = nn.Linear(config.width, config.width)
        self.head = nn.Sequential(nn.Linear(3 * config.width + 1, config.width), nn.SiLU(),
                                  nn.Linear(config.width, len(config.answers)))
        self._tokenizer = None

    def tokenize(self, questions: Sequence[str]) -> torch.Tensor:
        """open_clip BPE ids ``N x context_length`` (long questions are truncated)."""
        if self._tokenizer is None:
            open_clip = import_open_clip()
            self._tokenizer = open_clip.SimpleTokenizer(context_length=self.config.context_length)
        return self._tokenizer(list(questions))

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        size = self.config.image_size
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
        return (images - 0.5) / 0.5

    def forward(self, images: torch.Tensor, token_ids: torch.Tensor,
                with_shape_logits: bool = False) -> dict[str, torch.Tensor]:
        """Logits over :attr:`TinyJudgeConfig.answers` and the fused hidden states."""
        fine = self.fine_encoder(self._prepare(images))
        x = self.coarse_encoder(fine) + self.grid_position
        question = self.question_encoder(token_ids)
        for block in self.film_blocks:
            x = block(x, question)
        hidden = x.flatten(2).transpose(1, 2)
        scores = torch.einsum("ntd,nd->nt", self.attention_key(hidden), self.attention_query(question))
        scores = scores / hidden.shape[-1] ** 0.5
        attended = torch.einsum("nt,ntd->nd", scores.softmax(-1), hidden)
        count_cue = torch.sigmoid(scores).mean(1, keepdim=True)
        pooled = torch.cat([hidden.mean(1), hidden.amax(1), attended, count_cue], dim=-1)
        out = {"logits": self.head(pooled), "hidden": hidden}
        if with_shape_logits:
            if self.shape_head is None:
                raise ValueError("with_shape_logits=True needs a config with shapes")
            out["shape_logits"] = self.shape_head(fine)
        return out

    def hidden(self, images: torch.Tensor, questions: Sequence[str]) -> torch.Tensor:
        """Fused image-token hidden states ``N x T x D`` (eq. 11's ``h``)."""
        check_judge_inputs(images, questions)
        return self(images, self.tokenize(questions).to(images.device))["hidden"]

    @torch.no_grad()
    def answer(self, images: torch.Tensor, questions: Sequence[str]) -> list[str]:
        """Most likely answer from the closed vocabulary for each (image, question)."""
        check_judge_inputs(images, questions)
        logits = self(images, self.tokenize(questions).to(images.device))["logits"]
        return [self.config.answers[i] for i in logits.argmax(-1).tolist()]
