"""uoisc-vlf-eval's caption scoring: perfect on itself, zero when lost, chance level for a constant guess."""

import math

import numpy as np
import pytest

from gnuradio.uoisc.apps import eval_pairs, vlf_eval_metrics
from uoisc_train.vlf.caption_metrics import parse_caption
from uoisc_train.world import generate_scene
from uoisc_train.world.backgrounds import BACKGROUNDS
from uoisc_train.world.scenes import make_caption
from uoisc_train.world.vocabulary import COLOURS, SIZES

N_SCENES = 300


@pytest.fixture(scope="module")
def references():
    pairs = eval_pairs.make_pairs("test_seen", N_SCENES)
    return vlf_eval_metrics.reference_captions(pairs, "test_seen")


def test_reference_captions_are_the_pairs_scenes_captions():
    """Each pair's reference caption is the caption of the scene its image came from."""
    pairs = eval_pairs.make_pairs("test_zeroshot", 3)
    captions = vlf_eval_metrics.reference_captions(pairs, "test_zeroshot")
    for pair, caption in zip(pairs, captions):
        scene = generate_scene(pair.scene_seed, 64, "test_zeroshot")
        assert caption == scene.caption and np.array_equal(scene.image, pair.image)


def test_received_ground_truth_scores_one_and_a_lost_caption_zero(references):
    """A caption equal to its reference scores 1 on every text metric; a lost one (None) scores 0
    on every metric and counts as lost."""
    scores = vlf_eval_metrics.score_captions(references[:4], references[:2] + [None, None])
    summary = vlf_eval_metrics.summarize_captions(scores)
    for key in vlf_eval_metrics.TEXT_METRICS:
        assert [s[key] for s in scores] == [1.0, 1.0, 0.0, 0.0], key
        assert summary[key] == 0.5
    assert summary["n_lost"] == 2 and summary["n_pairs"] == 4 and summary["object_received"] == 1.0


def test_a_cut_caption_keeps_the_objects_it_still_lists_whole(references):
    """Cutting a caption inside its second object keeps the first object right and loses the
    rest (object accuracy 1/n for n objects) and the background."""
    reference = next(r for r in references if len(parse_caption(r).objects) >= 3)
    first_end = reference.index(", ")
    (score,) = vlf_eval_metrics.score_captions([reference], [reference[:first_end + 6]])
    assert score["object"] == pytest.approx(1 / len(parse_caption(reference).objects))
    assert score["background"] == 0.0 and score["count"] == 0.0


def test_a_constant_caption_scores_at_chance_level(references):
    """One fixed one-object caption against many scenes scores what independent guessing predicts.

    The world draws each object's colour and size uniformly and independently, and the
    background uniformly; a one-object guess of colour c is right on one slot out of
    n = max(n objects, 1) exactly when c occurs among the scene's n colours, with
    probability 1 - (1 - 1/K)^n. Tolerance: 4 standard deviations of the mean of
    those independent per-scene scores.
    """
    anchor = generate_scene(123_456, 64, "test_seen")
    guess = make_caption(anchor.objects[:1], anchor.background)
    summary = vlf_eval_metrics.summarize_captions(
        vlf_eval_metrics.score_captions(references, [guess] * len(references)))
    counts = np.array([len(parse_caption(r).objects) for r in references])

    def expected(n_values):
        p = 1.0 - (1.0 - 1.0 / n_values) ** counts
        mean = float(np.mean(p / counts))
        sd = math.sqrt(float(np.sum(p * (1 - p) / counts ** 2))) / len(counts)
        return mean, sd

    for key, n_values in (("colour", len(COLOURS)), ("size", len(SIZES))):
        mean, sd = expected(n_values)
        assert summary[key] == pytest.approx(mean, abs=4 * sd), key
    p = 1.0 / len(BACKGROUNDS)
    assert summary["background"] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / len(references)))
    assert summary["exact"] == 0.0


def test_score_captions_refuses_lists_of_different_lengths():
    """Two references and one received caption raise ValueError naming both counts."""
    with pytest.raises(ValueError, match="2 references but 1"):
        vlf_eval_metrics.score_captions(["a", "b"], ["a"])
