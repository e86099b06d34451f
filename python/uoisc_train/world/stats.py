"""Answer and content statistics of generated splits (for the docs and for sanity checks).

Run ``python -m uoisc_train.world.stats --split train --n 2000`` to print JSON.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from .scenes import DEFAULT_SIZE, generate_scene
from .splits import ALL_SPLITS, scene_seed
from .vocabulary import GENERATOR_VERSION, QUESTION_KINDS


def split_statistics(split: str, n: int, seed: int = 0, size: int = DEFAULT_SIZE) -> dict:
    """Answer distribution per question kind, object families and backgrounds of ``n`` scenes.

    The scenes are those of ``SceneVQADataset(split, n, seed, size)``.
    """
    answers = {kind: Counter() for kind in QUESTION_KINDS}
    families, backgrounds, objects_per_scene = Counter(), Counter(), Counter()
    for index in range(n):
        scene = generate_scene(scene_seed(seed, index), size, split)
        for qa in scene.qa:
            answers[qa.kind][qa.answer] += 1
        families.update(obj.family for obj in scene.objects)
        backgrounds[scene.background] += 1
        objects_per_scene[str(len(scene.objects))] += 1
    return {
        "generator_version": GENERATOR_VERSION,
        "split": split, "n": n, "seed": seed, "size": size,
        "answers": {kind: dict(sorted(counter.items())) for kind, counter in answers.items()},
        "object_families": dict(sorted(families.items())),
        "backgrounds": dict(sorted(backgrounds.items())),
        "objects_per_scene": dict(sorted(objects_per_scene.items())),
    }


def main(argv: list[str] | None = None) -> dict:
    """Print the statistics of one split as JSON and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-s", "--split", choices=ALL_SPLITS, default="train")
    parser.add_argument("-n", "--n", type=int, default=2000, help="number of scenes")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="image side in pixels")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be >= 1, got {args.n}")
    stats = split_statistics(args.split, args.n, args.seed, args.size)
    print(json.dumps(stats, indent=1))
    return stats


if __name__ == "__main__":
    main()
