"""Caption parsing and attribute metrics against the world generator's own objects."""

import pytest
from hypothesis import given, settings, strategies as st

from uoisc_train.vlf.caption_metrics import caption_metrics, caption_scores, parse_caption
from uoisc_train.world import generate_scene
from uoisc_train.world.scenes import position_phrase


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), split=st.sampled_from(["train", "test_seen", "test_zeroshot"]))
def test_parsing_a_generated_caption_recovers_the_scene_objects(seed, split):
    """Parsed objects equal the scene's (size, colour, shape, position phrase) in order."""
    scene = generate_scene(seed, split=split)
    parsed = parse_caption(scene.caption)
    expected = [(o.size, o.colour, o.shape, position_phrase(o.cx, o.cy)) for o in scene.objects]
    assert [(p.size, p.colour, p.shape, p.position) for p in parsed.objects] == expected
    assert parsed.unparsed == 0 and parsed.background is not None


def test_a_caption_scores_perfectly_against_itself():
    """Identical captions give 1.0 on every score."""
    caption = generate_scene(3).caption
    assert set(caption_scores(caption, caption).values()) == {1.0}


def test_one_wrong_colour_of_two_objects_halves_colour_accuracy_only():
    """Changing one object's colour costs exactly half of the colour accuracy and the exact match."""
    reference = "A small red circle on the left and a large blue star at the top, on a plain background."
    generated = "A small green circle on the left and a large blue star at the top, on a plain background."
    scores = caption_scores(reference, generated)
    assert scores["colour"] == scores["object"] == 0.5 and scores["exact"] == 0.0
    assert scores["shape"] == scores["size"] == scores["position"] == scores["count"] == 1.0


def test_object_order_does_not_matter_except_for_the_exact_match():
    """Listing the same objects in another order keeps every attribute score at 1 but is not exact."""
    reference = "A small red circle on the left and a large blue star at the top, on a plain background."
    swapped = "A large blue star at the top and a small red circle on the left, on a plain background."
    scores = caption_scores(reference, swapped)
    assert scores["exact"] == 0.0
    assert all(scores[key] == 1.0 for key in ("size", "colour", "shape", "position", "object", "count"))


def test_attributes_on_the_wrong_objects_fail_the_object_score():
    """Right colours and shapes, wrongly paired: attribute scores 1, object score 0."""
    reference = "A small red circle on the left and a small blue star at the top, on a plain background."
    generated = "A small blue circle on the left and a small red star at the top, on a plain background."
    scores = caption_scores(reference, generated)
    assert scores["colour"] == scores["shape"] == 1.0 and scores["object"] == 0.0


def test_a_missing_object_counts_against_every_attribute():
    """A caption with one of two objects scores 1/2 per attribute and fails the count."""
    reference = "A small red circle on the left and a large blue star at the top, on a plain background."
    generated = "A small red circle on the left, on a plain background."
    scores = caption_scores(reference, generated)
    assert scores["shape"] == 0.5 and scores["count"] == 0.0 and scores["background"] == 1.0


def test_garbage_is_scored_zero_not_raised():
    """An unparseable caption scores 0 on objects and background, without an exception."""
    scores = caption_scores(generate_scene(1).caption, "cat cat cat")
    assert scores["shape"] == scores["background"] == scores["exact"] == 0.0
    assert parse_caption("cat cat cat").unparsed == 1


def test_metrics_average_and_refuse_mismatched_lengths():
    """caption_metrics averages per-caption scores and refuses lists of different lengths."""
    captions = [generate_scene(i).caption for i in range(2)]
    metrics = caption_metrics(captions, [captions[0], "nonsense"])
    assert metrics["exact"] == 0.5 and metrics["n"] == 2
    with pytest.raises(ValueError, match="equally many"):
        caption_metrics(captions, captions[:1])
