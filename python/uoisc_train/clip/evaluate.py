"""Zero-shot metrics of a CLIP model on generated scenes (what the model card reports).

Metrics, all top-1 accuracies in [0, 1]:

- ``retrieval_image_to_text`` / ``retrieval_text_to_image``: scenes are cut
  into consecutive groups of :data:`RETRIEVAL_GROUP` (image, caption) pairs of
  the ``pretrain`` split; each image must rank its own caption first among the
  group's captions (and vice versa). Chance is ``1/RETRIEVAL_GROUP``.
- ``shape_presence``: for each ``pretrain`` scene, the shape whose prompt
  ``"a photo of a {shape}."`` scores highest among all shapes must be present
  in the scene. ``shape_presence_chance`` is the same rate for a uniform guess.
- ``held_out_shape_presence``: the same on ``test_zeroshot`` scenes, ranking
  only the held-out family's shapes (does CLIP know the zero-shot objects?).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from uoisc_train.world import FAMILIES, HELD_OUT_FAMILY, SceneCaptionDataset

__all__ = ["RETRIEVAL_GROUP", "EVAL_SEED", "PROMPT", "images_to_tensor", "generate_scenes",
           "clip_zero_shot_metrics"]

#: Candidates per retrieval query.
RETRIEVAL_GROUP = 100
#: Dataset seed of the evaluation scenes (training uses small seeds; streams are disjoint).
EVAL_SEED = 999_999
PROMPT = "a photo of a {}."


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """``N x H x W x 3`` uint8 -> ``N x 3 x H x W`` float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def generate_scenes(split: str, n: int, seed: int, size: int = 64) -> list:
    """Scenes ``0..n-1`` of a dataset stream (same scenes as the world's datasets)."""
    dataset = SceneCaptionDataset(split, n, seed=seed, size=size)
    return [dataset.scene(i) for i in range(n)]


def _normalize(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(model.visual.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(model.visual.image_std).view(1, 3, 1, 1)
    return (images - mean) / std


@torch.no_grad()
def _embed_images(model: nn.Module, scenes: list, batch: int = 256) -> torch.Tensor:
    chunks = []
    for start in range(0, len(scenes), batch):
        pixels = images_to_tensor(np.stack([s.image for s in scenes[start:start + batch]]))
        chunks.append(F.normalize(model.encode_image(_normalize(model, pixels)), dim=-1))
    return torch.cat(chunks)


@torch.no_grad()
def _embed_texts(model: nn.Module, tokenizer, texts: list[str], batch: int = 256) -> torch.Tensor:
    return torch.cat([F.normalize(model.encode_text(tokenizer(texts[i:i + batch])), dim=-1)
                      for i in range(0, len(texts), batch)])


def _retrieval(image_emb: torch.Tensor, text_emb: torch.Tensor) -> tuple[float, float]:
    hits_i2t = hits_t2i = 0
    n_used = (len(image_emb) // RETRIEVAL_GROUP) * RETRIEVAL_GROUP
    if n_used == 0:
        raise ValueError(f"need at least {RETRIEVAL_GROUP} scenes for retrieval, got {len(image_emb)}")
    target = torch.arange(RETRIEVAL_GROUP)
    for start in range(0, n_used, RETRIEVAL_GROUP):
        sim = image_emb[start:start + RETRIEVAL_GROUP] @ text_emb[start:start + RETRIEVAL_GROUP].T
        hits_i2t += (sim.argmax(1) == target).sum().item()
        hits_t2i += (sim.argmax(0) == target).sum().item()
    return hits_i2t / n_used, hits_t2i / n_used


def _shape_presence(model, tokenizer, scenes, image_emb, shapes) -> tuple[float, float]:
    prompt_emb = _embed_texts(model, tokenizer, [PROMPT.format(s) for s in shapes])
    predicted = (image_emb @ prompt_emb.T).argmax(1).tolist()
    hits, chance = 0, 0.0
    for scene, index in zip(scenes, predicted):
        present = {o.shape for o in scene.objects} & set(shapes)
        hits += shapes[index] in present
        chance += len(present) / len(shapes)
    return hits / len(scenes), chance / len(scenes)


def clip_zero_shot_metrics(model: nn.Module, tokenizer, n_scenes: int = 500,
                           seed: int = EVAL_SEED, size: int = 64) -> dict[str, float]:
    """Retrieval and shape-presence accuracies of ``model`` (see module docstring).

    Args:
        model: an open_clip CLIP model (eval mode is set here).
        tokenizer: its open_clip tokenizer.
        n_scenes: scenes per split (a multiple of :data:`RETRIEVAL_GROUP` uses all of them).
        seed: dataset seed of the evaluation scenes.
        size: image side in pixels.
    """
    model.eval()
    all_shapes = [s for shapes in FAMILIES.values() for s in shapes]
    scenes = generate_scenes("pretrain", n_scenes, seed, size)
    image_emb = _embed_images(model, scenes)
    text_emb = _embed_texts(model, tokenizer, [s.caption for s in scenes])
    i2t, t2i = _retrieval(image_emb, text_emb)
    presence, presence_chance = _shape_presence(model, tokenizer, scenes, image_emb, all_shapes)
    zs_scenes = generate_scenes("test_zeroshot", n_scenes, seed, size)
    held_out, held_out_chance = _shape_presence(
        model, tokenizer, zs_scenes, _embed_images(model, zs_scenes), list(FAMILIES[HELD_OUT_FAMILY]))
    return {
        "n_scenes": n_scenes, "eval_seed": seed, "retrieval_group": RETRIEVAL_GROUP,
        "retrieval_image_to_text": i2t, "retrieval_text_to_image": t2i,
        "shape_presence": presence, "shape_presence_chance": presence_chance,
        "held_out_shape_presence": held_out, "held_out_shape_presence_chance": held_out_chance,
    }
