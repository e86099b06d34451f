"""image_source's item iterators: files with sidecar queries, generated scenes, limits and errors."""

import itertools
import json
import logging
import subprocess
import sys

import numpy as np
import pytest

from gnuradio.uoisc.io.images import write_png
from gnuradio.uoisc.io.source_items import SEQ_MODULO, open_source, source_meta


def make_folder(path, n=3, size=(6, 4)):
    rng = np.random.default_rng(7)
    images = {}
    for i in range(n):
        images[f"img{i}.png"] = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        write_png(path / f"img{i}.png", images[f"img{i}.png"])
    return images


def test_world_generator_does_not_import_torch():
    """Importing the scene generator (what image_source needs) leaves torch unloaded, while the
    torch datasets stay reachable from uoisc_train.world."""
    code = ("import sys\nfrom uoisc_train.world import generate_scene\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "from uoisc_train.world import SceneVQADataset\nassert 'torch' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_folder_with_jsonl_sidecar(tmp_path):
    """Files come out in name order with exact pixels (image_size 0) and their sidecar query."""
    images = make_folder(tmp_path)
    (tmp_path / "q.jsonl").write_text(json.dumps({"image": "img2.png", "query": "Where?"}) + "\n"
                                      + json.dumps({"image": "img0.png", "query": "What?"}) + "\n")
    items = list(open_source(str(tmp_path), queries=str(tmp_path / "q.jsonl"), image_size=0))
    assert [it.image_id for it in items] == ["img0.png", "img1.png", "img2.png"]
    assert [it.query for it in items] == ["What?", "", "Where?"]
    for it in items:
        np.testing.assert_array_equal(it.image, images[it.image_id])


def test_fixed_query_single_file_and_resize(tmp_path):
    """A single file with a fixed query string, fitted to image_size × image_size."""
    make_folder(tmp_path, n=1, size=(30, 50))
    (item,) = open_source(str(tmp_path / "img0.png"), queries="Is there a cat?", image_size=16)
    assert item.query == "Is there a cat?" and item.image.shape == (16, 16, 3)


def test_loop_and_n_images(tmp_path):
    """loop repeats the files in order; n_images stops after that many; without loop the files
    are read once even with a larger n_images."""
    make_folder(tmp_path, n=2)
    ids = [it.image_id for it in open_source(str(tmp_path), loop=True, n_images=5, image_size=0)]
    assert ids == ["img0.png", "img1.png"] * 2 + ["img0.png"]
    assert len(list(open_source(str(tmp_path), n_images=5, image_size=0))) == 2


def test_unreadable_file_is_skipped_and_logged(tmp_path, caplog):
    """A corrupt image in the folder is logged at warning level and skipped; a loop over a folder
    where nothing is readable ends instead of spinning."""
    make_folder(tmp_path, n=2)
    (tmp_path / "img1.png").write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING):
        ids = [it.image_id for it in open_source(str(tmp_path), image_size=0)]
    assert ids == ["img0.png"]
    assert "img1.png" in caplog.text
    (tmp_path / "img0.png").write_bytes(b"garbage")
    assert list(open_source(str(tmp_path), loop=True, image_size=0)) == []


def test_generator_is_deterministic_with_question_meta():
    """The generator gives the same scenes for the same seed, different ones for another seed; the
    query is the scene's first question and meta has its answer and kind."""
    from uoisc_train.world import generate_scene, scene_seed

    first = list(open_source("generator", split="test_seen", n_images=3, seed=4, image_size=64))
    again = list(open_source("generator", split="test_seen", n_images=3, seed=4, image_size=64))
    other = next(open_source("generator", split="test_seen", n_images=1, seed=5, image_size=64))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.image, b.image)
        assert (a.image_id, a.query, a.meta) == (b.image_id, b.query, b.meta)
    assert not np.array_equal(first[0].image, other.image)
    scene = generate_scene(scene_seed(4, 2), 64, "test_seen")
    np.testing.assert_array_equal(first[2].image, scene.image)
    assert first[2].query == scene.qa[0].question
    assert first[2].meta == {"split": "test_seen", "scene_seed": scene_seed(4, 2),
                             "answer": scene.qa[0].answer, "question_kind": scene.qa[0].kind}


def test_generator_with_fixed_query_drops_answer():
    """A fixed query replaces the scene's question, so the scene's answer is not in the meta."""
    item = next(open_source("generator", queries="Describe it", n_images=1))
    assert item.query == "Describe it" and "answer" not in item.meta


def test_generator_unlimited_when_n_images_zero():
    """n_images=0 with the generator never ends (the block paces it)."""
    assert len(list(itertools.islice(open_source("generator", n_images=0), 4))) == 4


@pytest.mark.parametrize("kwargs, fragment", [
    ({"source": "/nonexistent/folder"}, "neither"),
    ({"source": "generator", "split": "nope"}, "nope"),
    ({"source": "generator", "image_size": 10}, "size"),
    ({"source": "generator", "n_images": -1}, "n_images"),
    ({"source": "generator", "seed": -1}, "seed"),
    ({"source": "generator", "queries": "missing.jsonl"}, "missing.jsonl"),
])
def test_bad_arguments_raise_at_open(kwargs, fragment):
    """Bad arguments raise ValueError when the source is opened, naming the bad value."""
    with pytest.raises(ValueError, match=fragment):
        open_source(**kwargs)


def test_bad_sidecars_raise_at_open(tmp_path):
    """A bad JSONL line, a text sidecar of the wrong length, or a sidecar with the generator raise
    ValueError when the source is opened."""
    make_folder(tmp_path, n=2)
    (tmp_path / "bad.jsonl").write_text('{"image": "img0.png", "query": "q"}\n{oops\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        open_source(str(tmp_path), queries=str(tmp_path / "bad.jsonl"))
    (tmp_path / "short.txt").write_text("only one\n")
    with pytest.raises(ValueError, match="1 query lines for 2 images"):
        open_source(str(tmp_path), queries=str(tmp_path / "short.txt"))
    with pytest.raises(ValueError, match="generator"):
        open_source("generator", queries=str(tmp_path / "short.txt"))


def test_source_meta_numbers_seq_mod_65536():
    """seq = index mod 65536, index unchanged, item meta kept."""
    item = next(open_source("generator", n_images=1))
    meta = source_meta(item, SEQ_MODULO + 3)
    assert (meta["seq"], meta["index"]) == (3, SEQ_MODULO + 3)
    assert meta["image_id"] == item.image_id and meta["answer"] == item.meta["answer"]
