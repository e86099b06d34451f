"""torch Datasets over generated scenes: captions (CLIP pretraining) and VQA triples.

Item i is a pure function of (split, seed, i, size): scenes are generated on
demand from :func:`~uoisc_train.world.splits.scene_seed`, so DataLoader
workers produce identical data and nothing is stored.
"""

from __future__ import annotations

from typing import Any, Callable

from PIL import Image
from torch.utils.data import Dataset

from .scenes import DEFAULT_SIZE, Scene, check_size, generate_scene
from .splits import MAX_ITEMS_PER_SEED, check_split, scene_seed
from .vocabulary import QUESTION_KINDS, answer_index

Transform = Callable[[Image.Image], Any]


class _SceneDataset(Dataset):
    """Shared bookkeeping: arguments, scene generation and the image transform."""

    def __init__(self, split: str, n: int, seed: int = 0, size: int = DEFAULT_SIZE,
                 transform: Transform | None = None):
        check_split(split)
        if not 0 < n <= MAX_ITEMS_PER_SEED:
            raise ValueError(f"n must be in [1, {MAX_ITEMS_PER_SEED}], got {n}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.split, self.n, self.seed, self.size = split, int(n), int(seed), check_size(size)
        self.transform = transform
        self._cached: tuple[int, Scene] | None = None

    def scene(self, scene_index: int) -> Scene:
        """Scene ``scene_index`` of this dataset (the last one is cached)."""
        if not 0 <= scene_index < self.n:
            raise IndexError(f"scene index {scene_index} out of range [0, {self.n})")
        if self._cached is None or self._cached[0] != scene_index:
            scene = generate_scene(scene_seed(self.seed, scene_index), self.size, self.split)
            self._cached = (scene_index, scene)
        return self._cached[1]

    def _image(self, scene: Scene):
        if self.transform is None:
            return scene.image
        return self.transform(Image.fromarray(scene.image))


class SceneCaptionDataset(_SceneDataset):
    """(image, caption) pairs, one per scene.

    Args:
        split: ``train``, ``test_seen``, ``test_zeroshot`` or ``pretrain`` (all
            families: the one to pretrain the tiny CLIP on).
        n: number of scenes.
        seed: dataset seed; different seeds give independent scenes.
        size: image side in pixels.
        transform: callable on a PIL image (e.g. open_clip's preprocess); without
            it the image is a ``size × size × 3`` uint8 array.
    """

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        scene = self.scene(index)
        return self._image(scene), scene.caption


class SceneVQADataset(_SceneDataset):
    """VQA items: ``questions_per_scene`` consecutive items share one scene.

    Item ``j`` is question ``(s + j % q) % 5`` of scene ``s = j // q`` (kinds in
    ``QUESTION_KINDS`` order), so with ``q < 5`` the kinds rotate across scenes
    and stay balanced.

    Args:
        split, n, seed, size, transform: as :class:`SceneCaptionDataset` (``n`` scenes).
        questions_per_scene: 1..5 questions taken from each scene.

    Items are dicts: ``image``, ``question``, ``answer``, ``answer_idx`` (index in
    ``ANSWERS``), ``kind``, ``scene_index``.
    """

    def __init__(self, split: str, n: int, seed: int = 0, size: int = DEFAULT_SIZE,
                 transform: Transform | None = None,
                 questions_per_scene: int = len(QUESTION_KINDS)):
        super().__init__(split, n, seed, size, transform)
        if not 1 <= questions_per_scene <= len(QUESTION_KINDS):
            raise ValueError(f"questions_per_scene must be in [1, {len(QUESTION_KINDS)}], "
                             f"got {questions_per_scene}")
        self.questions_per_scene = int(questions_per_scene)

    def __len__(self) -> int:
        return self.n * self.questions_per_scene

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} out of range [0, {len(self)})")
        scene_index, offset = divmod(int(index), self.questions_per_scene)
        scene = self.scene(scene_index)
        qa = scene.qa[(scene_index + offset) % len(scene.qa)]
        return {
            "image": self._image(scene),
            "question": qa.question,
            "answer": qa.answer,
            "answer_idx": answer_index(qa.answer),
            "kind": qa.kind,
            "scene_index": scene_index,
        }

