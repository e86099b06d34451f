"""uoisc-eval's scoring (gnuradio.uoisc.apps.eval_metrics) with the shipped tiny judge.

Stand-in codecs give reconstructions whose scores are known without the
harness: the identity must match every answer, a constant grey image must
match exactly where the judge answers the same on grey and on the original.
"""

import os

import numpy as np
import pytest
import torch

from gnuradio.uoisc.apps import eval_metrics, eval_pairs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JUDGE = os.path.join(ROOT, "models", "uoisc-tiny-judge")


@pytest.fixture(scope="module")
def judge():
    from uoisc_train.judges import load_tiny_judge
    return load_tiny_judge(JUDGE)


@pytest.fixture(scope="module")
def pairs():
    return eval_pairs.make_pairs("test_zeroshot", 10)


def to_tensor(images):
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0


def test_pairs_rotate_question_kinds_and_are_reproducible(pairs):
    """Pair i asks scene i its question i mod 5, so all five kinds appear in 10 pairs;
    generating them again gives the same images and questions."""
    assert len({p.kind for p in pairs}) == 5
    again = eval_pairs.make_pairs("test_zeroshot", 10)
    for a, b in zip(pairs, again):
        assert a.question == b.question and a.image_id == b.image_id
        np.testing.assert_array_equal(a.image, b.image)
    with pytest.raises(ValueError, match="n_pairs"):
        eval_pairs.make_pairs("test_zeroshot", 0)


def test_identity_codec_matches_every_answer(pairs, judge):
    """Reconstruction = original: answer match rate exactly 1.0, accuracy equals the
    judge's accuracy on the originals, relevance loss 0 (float32 cosine of identical
    vectors), no PSNR (perfect copies)."""
    summary = eval_metrics.summarize_scores(
        eval_metrics.score_pairs(pairs, [p.image for p in pairs], judge, batch_size=4))
    assert summary["answer_match_rate"] == 1.0
    assert summary["accuracy"] == summary["accuracy_original"]
    assert summary["relevance_loss"] == pytest.approx(0.0, abs=1e-5)
    assert summary["psnr_db"] is None and summary["n_lost"] == 0


def test_grey_codec_scores_the_judges_answers_on_grey(pairs, judge):
    """A constant mid-grey reconstruction matches exactly on the pairs where the judge
    answers the same on grey and on the original (its chance level, computed here with
    the judge's own answer_match_rate), and its relevance loss equals eq. 11 over the batch."""
    grey = [np.full_like(p.image, 128) for p in pairs]
    questions = [p.question for p in pairs]
    expected = judge.answer_match_rate(to_tensor([p.image for p in pairs]), to_tensor(grey), questions)
    with torch.no_grad():
        expected_loss = float(judge.relevance_loss(to_tensor([p.image for p in pairs]), to_tensor(grey),
                                                   questions))
    summary = eval_metrics.summarize_scores(eval_metrics.score_pairs(pairs, grey, judge))
    assert summary["answer_match_rate"] == pytest.approx(expected, abs=1e-12)
    assert summary["relevance_loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert summary["answer_match_rate"] < 1.0  # grey cannot answer colour questions right


def test_lost_images_score_as_grey_and_leave_psnr_to_the_received(pairs, judge):
    """A lost image (None) scores like the mid-grey stand-in; the PSNR and the received-only
    match rate describe the received images only (here: one image, 16 grey levels off)."""
    grey = [np.full_like(p.image, eval_metrics.LOST_GREY) for p in pairs]
    as_grey = eval_metrics.score_pairs(pairs, grey, judge)
    received = np.clip(pairs[0].image.astype(int) + 16, 0, 255).astype(np.uint8)
    lost = eval_metrics.score_pairs(pairs, [received] + [None] * (len(pairs) - 1), judge)
    for a, b in zip(as_grey[1:], lost[1:]):
        assert b["lost"] and a["answer_reconstruction"] == b["answer_reconstruction"]
        assert a["relevance_loss"] == pytest.approx(b["relevance_loss"], rel=1e-6)
    summary = eval_metrics.summarize_scores(lost)
    assert summary["n_lost"] == len(pairs) - 1
    assert summary["answer_match_rate_received"] == float(lost[0]["match"])
    assert eval_metrics.summarize_scores(lost[1:])["answer_match_rate_received"] is None
    mse = float(np.mean((received.astype(float) - pairs[0].image.astype(float)) ** 2))
    assert summary["psnr_db"] == pytest.approx(10 * np.log10(255 ** 2 / mse))


def test_bad_reconstructions_are_refused(pairs, judge):
    """A reconstruction of another shape, or a count that differs from the pairs, raises
    ValueError naming the problem."""
    with pytest.raises(ValueError, match="reconstruction"):
        eval_metrics.score_pairs(pairs[:1], [np.zeros((32, 32, 3), np.uint8)], judge)
    with pytest.raises(ValueError, match="reconstructions"):
        eval_metrics.score_pairs(pairs[:2], [None], judge)
