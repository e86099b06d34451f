"""Tests of the torch datasets over generated scenes and of their text for open_clip."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from uoisc_train.compat import import_open_clip
from uoisc_train.world import (ANSWERS, COLOURS, FAMILIES, HELD_OUT_FAMILY, QUESTION_KINDS,
                               SceneCaptionDataset, SceneObject, SceneVQADataset, generate_scene,
                               scene_seed)
from uoisc_train.world.scenes import make_caption
from uoisc_train.world.vocabulary import SHAPE_FAMILY, SHAPES

CONTEXT_LENGTH = 77  # open_clip's text context


def test_caption_item_is_the_scene_of_its_seed():
    """Item i is generate_scene(scene_seed(seed, i)) of the split: uint8 image and its caption."""
    dataset = SceneCaptionDataset("test_seen", n=4, seed=5)
    image, caption = dataset[3]
    scene = generate_scene(scene_seed(5, 3), 64, "test_seen")
    assert image.dtype == np.uint8 and np.array_equal(image, scene.image)
    assert caption == scene.caption and len(dataset) == 4


def test_vqa_items_rotate_through_every_question_kind():
    """With q questions per scene, items j*q..j*q+q-1 share scene j; kinds rotate and stay valid."""
    dataset = SceneVQADataset("train", n=10, seed=1, questions_per_scene=2)
    items = [dataset[j] for j in range(len(dataset))]
    assert len(items) == 20
    assert [item["scene_index"] for item in items] == [j // 2 for j in range(20)]
    assert {item["kind"] for item in items} == set(QUESTION_KINDS)
    for item in items:
        assert ANSWERS[item["answer_idx"]] == item["answer"]
        scene = dataset.scene(item["scene_index"])
        assert (item["question"], item["answer"]) in [(qa.question, qa.answer) for qa in scene.qa]


def test_zeroshot_vqa_asks_only_about_the_held_out_family():
    """Every test_zeroshot question names a held-out-family shape."""
    dataset = SceneVQADataset("test_zeroshot", n=8)
    for j in range(len(dataset)):
        assert any(shape in dataset[j]["question"] for shape in FAMILIES[HELD_OUT_FAMILY])


def test_dataloader_workers_produce_the_same_batches_as_the_main_process():
    """Two worker processes give byte-identical batches to num_workers=0 (items are pure functions)."""
    dataset = SceneVQADataset("pretrain", n=6, seed=3, questions_per_scene=1)
    def batches(workers):
        return list(DataLoader(dataset, batch_size=3, num_workers=workers))
    for a, b in zip(batches(0), batches(2)):
        assert torch.equal(a["image"], b["image"]) and a["question"] == b["question"]
        assert torch.equal(a["answer_idx"], b["answer_idx"])


def test_open_clip_preprocess_works_as_the_transform():
    """With open_clip's eval transform, images come out as normalised 3×64×64 float tensors."""
    open_clip = import_open_clip()
    preprocess = open_clip.image_transform(64, is_train=False)
    images, captions = next(iter(DataLoader(SceneCaptionDataset("pretrain", n=4, transform=preprocess),
                                            batch_size=4)))
    assert images.shape == (4, 3, 64, 64) and images.dtype == torch.float32
    assert images.min() < 0 < images.max()  # normalised, not 0..1
    assert len(captions) == 4


def test_longest_possible_caption_fits_open_clip_context():
    """Five objects with the longest names still tokenise without truncation (EOT before position 77)."""
    open_clip = import_open_clip()
    shape = max(SHAPES, key=len)
    worst = [SceneObject(shape=shape, family=SHAPE_FAMILY[shape], colour=max(COLOURS, key=len),
                         size="small", cx=0.2, cy=0.8, radius=0.08)] * 5  # "at the bottom left"
    captions = [make_caption(worst, "checker")]
    captions += [generate_scene(seed, 64, "pretrain").caption for seed in range(50)]
    tokens = open_clip.tokenize(captions, context_length=CONTEXT_LENGTH)
    assert torch.all(tokens[:, -1] == 0), "a caption filled the whole context"


@pytest.mark.parametrize("make", [
    lambda: SceneCaptionDataset("val", n=3),
    lambda: SceneCaptionDataset("train", n=0),
    lambda: SceneCaptionDataset("train", n=3, seed=-2),
    lambda: SceneCaptionDataset("train", n=3, size=16),
    lambda: SceneVQADataset("train", n=3, questions_per_scene=6),
])
def test_bad_dataset_arguments_raise_value_error(make):
    """An unknown split, an empty dataset, a negative seed, a bad size or too many questions
    is a ValueError at construction, not at the first item."""
    with pytest.raises(ValueError):
        make()


def test_index_past_the_end_raises_index_error():
    """Indexing past the end raises IndexError (what sequence iteration expects)."""
    with pytest.raises(IndexError):
        SceneVQADataset("train", n=2)[10]
    with pytest.raises(IndexError):
        SceneCaptionDataset("train", n=2)[2]
