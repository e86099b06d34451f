#
# SPDX-License-Identifier: GPL-3.0-or-later
#
"""The (scene, question) pairs that ``uoisc-eval`` transmits, and their folder form.

UO-ISC encodes an image *together with* its query, so every pair is one
transmission. Pair ``i`` is scene ``i`` of the split's evaluation stream asked
its question ``i mod 5``: one question per scene keeps every transmission an
independent scene (and an independent fade), and rotating the question kind
covers colour, existence, count, position and size equally (the image
source's generator would always ask the first question, the colour).
JPEG2000 does not look at the query; it sends the same images, one per pair,
so every system is judged on exactly the same pairs.

The pairs reach the flowgraph as a folder of PNGs with a JSON Lines query
sidecar (``docs/io.md``), read by the stock ``image_source``.
"""

import json
import pathlib
from dataclasses import dataclass

import numpy as np

from gnuradio.uoisc.io.images import write_png

#: Dataset seed of the evaluation scenes: the stream the training-side evaluation uses
#: (``uoisc_train.clip.evaluate.EVAL_SEED``), disjoint from the training seeds.
EVAL_SEED = 999_999
SIDECAR_NAME = "queries.jsonl"


@dataclass(frozen=True)
class EvalPair:
    """One transmission.

    Attributes:
        image_id: the PNG file name the image source reports as ``image_id``.
        image: H×W×3 uint8 original.
        question: the user's query (the judge's question).
        answer: the generator's ground-truth answer.
        kind: question kind (colour, exists, count, position, size).
        scene_seed: seed of the generated scene.
    """

    image_id: str
    image: np.ndarray
    question: str
    answer: str
    kind: str
    scene_seed: int


def make_pairs(split, n_pairs, size=64, seed=EVAL_SEED):
    """``n_pairs`` pairs of ``split``: scene i with its question ``i mod len(qa)``.

    Args:
        split: world split, e.g. ``"test_zeroshot"``.
        n_pairs: number of pairs (= scenes), >= 1.
        size: image side in pixels.
        seed: dataset seed of the scene stream.

    Raises:
        ValueError: ``n_pairs`` < 1, or a bad split/size (from the generator).
    """
    from uoisc_train.world import generate_scene, scene_seed

    if isinstance(n_pairs, bool) or not isinstance(n_pairs, int) or n_pairs < 1:
        raise ValueError(f"n_pairs must be a positive integer, got {n_pairs!r}")
    pairs = []
    for index in range(n_pairs):
        seed_i = scene_seed(seed, index)
        scene = generate_scene(seed_i, size, split)
        qa = scene.qa[index % len(scene.qa)]
        pairs.append(EvalPair(f"pair-{index:05d}.png", scene.image, qa.question, qa.answer,
                              qa.kind, seed_i))
    return pairs


def write_pair_folder(pairs, folder):
    """Write the pairs as PNGs plus a JSONL query sidecar; returns the sidecar's path.

    The image source emits the files in sorted order, which is the pairs' order
    (zero-padded names).
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for pair in pairs:
        write_png(folder / pair.image_id, pair.image)
        lines.append(json.dumps({"image": pair.image_id, "query": pair.question}))
    sidecar = folder / SIDECAR_NAME
    sidecar.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sidecar
