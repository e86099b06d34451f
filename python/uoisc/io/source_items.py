#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""What image_source emits, as plain iterators: files of a folder or generated scenes.

Each item is a :class:`SourceItem`; :func:`source_meta` numbers it (``seq``, ``index``)
into the image PDU's metadata. Kept free of GNU Radio so it is tested on its own.
"""

import itertools
import logging
import pathlib
from dataclasses import dataclass, field

import numpy as np

from .images import IMAGE_SUFFIXES, fit_square, list_images, read_image
from .queries import JSONL_SUFFIX, assign_queries, read_sidecar

GENERATOR = "generator"
SEQ_MODULO = 65536  # seq is the PHY header's 16-bit field
SIDECAR_SUFFIXES = (JSONL_SUFFIX, ".txt")

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceItem:
    """One image to emit.

    Attributes:
        image: H×W×3 uint8.
        image_id: the file name, or ``<split>-<seed>-<index>`` for a generated scene.
        query: the text query ("" when none).
        meta: further metadata (generated scenes: ``split``, ``scene_seed``, ``answer``,
            ``question_kind``).
    """

    image: np.ndarray
    image_id: str
    query: str
    meta: dict = field(default_factory=dict)


def source_meta(item, index):
    """Image PDU metadata of the ``index``-th emitted item (``seq`` = index mod 65536)."""
    return {**item.meta, "image_id": item.image_id, "query": item.query,
            "seq": index % SEQ_MODULO, "index": index}


def scene_items(split, seed, size, query=""):
    """Endless generated scenes ``generate_scene(scene_seed(seed, i), size, split)``, i = 0, 1, ...

    The query is the scene's first VQA question and the meta carries its answer and kind,
    unless a fixed ``query`` is given (then the scene's answer does not apply and is left out).

    Raises:
        ValueError: a bad split or size (checked before the first item is asked for).
    """
    # Imported here: only the generator needs the training package (numpy + Pillow, no torch).
    from uoisc_train.world import generate_scene, scene_seed
    from uoisc_train.world.scenes import check_size
    from uoisc_train.world.splits import check_split

    # Fail now, not at the first image.
    check_split(split)
    check_size(size)

    def scenes():
        for index in itertools.count():
            seed_i = scene_seed(seed, index)
            scene = generate_scene(seed_i, size, split)
            meta = {"split": split, "scene_seed": seed_i}
            if query:
                yield SourceItem(scene.image, f"{split}-{seed}-{index}", query, meta)
            else:
                qa = scene.qa[0]
                meta.update(answer=qa.answer, question_kind=qa.kind)
                yield SourceItem(scene.image, f"{split}-{seed}-{index}", qa.question, meta)

    return scenes()


def file_items(paths, queries, size=0, loop=False, on_skip=None):
    """The images of ``paths`` with their ``queries``, once or (``loop``) forever.

    Unreadable files are reported and skipped; a loop stops when a whole pass read nothing.

    Args:
        paths: image files, in emission order.
        queries: one query per path.
        size: 0 keeps each file's size; else :func:`fit_square` to size × size.
        loop: start again after the last file.
        on_skip: called with a message for each skipped file (default: a logging warning;
            GNU Radio blocks pass their own logger's ``warn``).
    """
    on_skip = on_skip or _log.warning
    while True:
        n_read = 0
        for path, query in zip(paths, queries):
            try:
                image = read_image(path)
            except ValueError as err:
                on_skip(f"skipping unreadable image: {err}")
                continue
            n_read += 1
            yield SourceItem(fit_square(image, size) if size else image, path.name, query,
                             {"file": str(path)})
        if not loop or n_read == 0:
            return


def resolve_queries(queries):
    """``(sidecar path, fixed query)`` from the ``queries`` argument: an existing file is a
    sidecar, any other string a query for every image.

    Raises:
        ValueError: a string ending in .jsonl/.txt that names no file (most likely a typo,
            which must not silently become the query text).
    """
    if queries and pathlib.Path(queries).is_file():
        return pathlib.Path(queries), ""
    if queries.lower().endswith(SIDECAR_SUFFIXES):
        raise ValueError(f"query sidecar {queries} does not exist")
    return None, queries


def open_source(source, queries="", split="test_zeroshot", n_images=0, seed=0, image_size=64,
                loop=False, on_skip=None):
    """Iterator of :class:`SourceItem` for image_source's arguments (documented there).

    ``n_images`` > 0 stops after that many items; 0 means no limit: a folder or a file is
    read once (forever with ``loop``), the generator never ends. ``on_skip`` is passed
    to :func:`file_items`.

    Raises:
        ValueError: a missing file/folder, a folder without images, a bad sidecar,
            a sidecar with the generator, negative ``n_images``/``seed``/``image_size``,
            or a bad split/size for the generator.
    """
    for name, value in (("n_images", n_images), ("seed", seed), ("image_size", image_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if not isinstance(queries, str):
        raise ValueError(f"queries must be a string (sidecar path or query), got {queries!r}")
    sidecar_path, fixed_query = resolve_queries(queries)
    if source == GENERATOR:
        if sidecar_path is not None:
            raise ValueError(f"a query sidecar ({sidecar_path}) needs image files, not the generator")
        items = scene_items(split, seed, image_size, fixed_query)
    else:
        items = _files_source(pathlib.Path(source), sidecar_path, fixed_query, image_size, loop, on_skip)
    return itertools.islice(items, n_images) if n_images else items


def _files_source(source, sidecar_path, fixed_query, image_size, loop, on_skip):
    if source.is_dir():
        paths = list_images(source)
    elif source.is_file():
        if source.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"{source} is not an image file ({', '.join(sorted(IMAGE_SUFFIXES))})")
        paths = [source]
    else:
        raise ValueError(f"image source {str(source)!r} is neither {GENERATOR!r}, a file nor a folder")
    if sidecar_path is None:
        queries = [fixed_query] * len(paths)
    else:
        queries = assign_queries([p.name for p in paths], read_sidecar(sidecar_path), str(sidecar_path))
    return file_items(paths, queries, image_size, loop, on_skip)
