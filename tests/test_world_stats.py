"""Tests of the split statistics command (``python -m uoisc_train.world.stats``)."""

import json

from uoisc_train.world import QUESTION_KINDS
from uoisc_train.world.stats import main


def test_statistics_count_one_question_per_kind_and_every_object(capsys):
    """For n scenes: n answers per kind, n backgrounds, and as many families as objects; JSON on stdout."""
    stats = main(["--split", "test_zeroshot", "--n", "30", "--seed", "4"])
    assert json.loads(capsys.readouterr().out) == stats
    assert set(stats["answers"]) == set(QUESTION_KINDS)
    assert all(sum(counter.values()) == 30 for counter in stats["answers"].values())
    assert sum(stats["backgrounds"].values()) == 30
    n_objects = sum(int(k) * v for k, v in stats["objects_per_scene"].items())
    assert sum(stats["object_families"].values()) == n_objects
