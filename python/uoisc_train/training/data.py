"""Batches of (image, question) from scenes of the offline world, generated once into memory."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from uoisc_train.clip.evaluate import generate_scenes, images_to_tensor

__all__ = ["SceneQuestionBatches"]


class SceneQuestionBatches:
    """Random batches of scenes, each paired with one of its questions.

    Every scene carries one question per kind; a batch draws scenes and one
    question per scene uniformly, from a seeded generator whose state is part
    of the training checkpoint (so a resumed run sees the same batches).

    Args:
        split: world split (``"train"`` for the codec).
        n_scenes: scenes generated into memory.
        seed: dataset seed of the scenes.
        image_size: scene side in pixels (the codec's image size).
        tokenize: the CLIP tokenizer (``ClipBackbone.tokenize``) for the query token ids.
    """

    def __init__(self, split: str, n_scenes: int, seed: int, image_size: int, tokenize):
        scenes = generate_scenes(split, n_scenes, seed, size=image_size)
        self.images = images_to_tensor(np.stack([scene.image for scene in scenes]))
        self.questions = [[qa.question for qa in scene.qa] for scene in scenes]
        per_scene = len(self.questions[0])
        flat = [q for questions in self.questions for q in questions]
        self.token_ids = tokenize(flat).to(torch.int64).view(n_scenes, per_scene, -1)
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.images.shape[0]

    def sample(self, batch_size: int) -> tuple[Tensor, list[str], Tensor]:
        """``(images N x 3 x H x W in [0, 1], questions, token_ids N x L_t)``."""
        scenes = torch.randint(len(self), (batch_size,), generator=self.generator)
        kinds = torch.randint(self.token_ids.shape[1], (batch_size,), generator=self.generator)
        questions = [self.questions[s][k] for s, k in zip(scenes.tolist(), kinds.tolist())]
        return self.images[scenes], questions, self.token_ids[scenes, kinds]
