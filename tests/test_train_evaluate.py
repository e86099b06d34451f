"""Clean-channel evaluation (uoisc_train.evaluate): PSNR formula and the per-(scene, question)
MSE / answer match against a pair-by-pair recomputation."""

import math

import numpy as np
import pytest
import torch

from uoisc_train.clip.evaluate import generate_scenes, images_to_tensor
from uoisc_train.codec import CodecConfig
from uoisc_train.evaluate import evaluate_codec, psnr_db
from uoisc_train.train import load_judge
from uoisc_train.training import build_codec


def test_psnr_of_images_in_unit_range():
    """PSNR = 10 log10(1 / MSE): 20 dB at MSE 0.01, infinite for a perfect copy; MSE < 0 refused."""
    assert psnr_db(0.01) == pytest.approx(20.0)
    assert psnr_db(0.0) == math.inf
    with pytest.raises(ValueError, match="mse=-1"):
        psnr_db(-1)


def test_evaluation_matches_a_pair_by_pair_recomputation():
    """Batched evaluation (batch 3 over 2 scenes x 5 questions) equals computing each
    (scene, question) pair alone: same MSE, same answer match rate, per-kind rates in [0, 1]."""
    torch.manual_seed(0)
    model = build_codec(CodecConfig()).eval()
    judge = load_judge("random-tiny")
    result = evaluate_codec(model, judge, "test_seen", n_scenes=2, seed=5, batch_size=3)
    errors, matches = [], []
    with torch.no_grad():
        for scene in generate_scenes("test_seen", 2, 5):
            image = images_to_tensor(scene.image[None])
            for qa in scene.qa:
                ids = model.backbone.tokenize([qa.question]).to(torch.int64)
                x_hat = model.decompress(model.compress(image, ids))
                errors.append(float(((x_hat - image) ** 2).mean()))
                matches.append(judge.answer(image, [qa.question]) == judge.answer(x_hat, [qa.question]))
    assert result["n_pairs"] == 10
    assert result["mse"] == pytest.approx(np.mean(errors), rel=1e-5)
    assert result["answer_match_rate"] == pytest.approx(np.mean(matches))
    assert set(result["answer_match_by_kind"]) == {"colour", "exists", "count", "position", "size"}
    assert evaluate_codec(model, None, "test_seen", 1)["answer_match_rate"] is None


def test_jpeg2000_evaluation_respects_the_budget_and_counts_every_question():
    """Baseline (c) evaluation: 2 scenes x 5 questions, mean size within the byte budget,
    answer match in [0, 1], PSNR consistent with the MSE."""
    from uoisc_train.evaluate import evaluate_jpeg2000
    result = evaluate_jpeg2000(load_judge("random-tiny"), "test_zeroshot", 2, max_bytes=600)
    assert result["n_pairs"] == 10 and result["mean_bytes"] <= 600
    assert 0.0 <= result["answer_match_rate"] <= 1.0
    assert result["psnr_db"] == pytest.approx(psnr_db(result["mse"]))
