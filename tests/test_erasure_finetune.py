"""Decoder-only erasure-aware fine-tuning (``uoisc_train.training.erasure_finetune``) on the fake
backbone: the encoder side stays bit-identical, only the decoder and the erasure rows learn."""

import pytest
import torch

from test_codec_fakes import FakeBackbone, FakeJudge, make_token_ids, tiny_config
from uoisc_train.codec import UOISC
from uoisc_train.codec.erasures import codeword_index_table
from uoisc_train.training.erasure_finetune import (ErasureFinetuner, ErasureFinetuneSettings,
                                                   add_erasure_token, decoder_input)


class _FakeBatches:
    """The part of SceneQuestionBatches the fine-tuner uses: sample() and a generator."""

    def __init__(self, n=8):
        generator = torch.Generator().manual_seed(5)
        self.images = torch.rand(n, 3, 32, 32, generator=generator)
        self.token_ids = make_token_ids(n)
        self.generator = torch.Generator().manual_seed(0)

    def sample(self, batch_size):
        rows = torch.randint(len(self.images), (batch_size,), generator=self.generator)
        questions = [f"question {int(r)}" for r in rows]
        return self.images[rows], questions, self.token_ids[rows]


@pytest.fixture
def source():
    torch.manual_seed(0)
    return UOISC(tiny_config(), backbone=FakeBackbone()).eval()


def test_add_erasure_token_copies_the_codec_and_starts_at_the_codebook_mean(source):
    """The extended codec has erasure index K, gives the same indices and the same images for
    clean indices as the source, its erasure rows are the codebook means, and a codec that
    already has the token is refused."""
    extended = add_erasure_token(source)
    images, tokens = torch.rand(2, 3, 32, 32), make_token_ids(2)
    assert extended.config.erasure_index == source.config.codebook_size == 16
    indices = source.compress(images, tokens)
    assert torch.equal(extended.compress(images, tokens), indices)
    with torch.no_grad():
        assert torch.equal(extended.decompress(indices), source.decompress(indices))
    assert torch.allclose(extended.quantizer.erasure_codewords,
                          source.quantizer.codebooks.mean(dim=1))
    with pytest.raises(ValueError, match="already has the erasure token"):
        add_erasure_token(extended)


def test_decoder_input_puts_k_exactly_where_erased():
    """Erased positions (a packed-order mask) read K; without residual errors the others are
    the sent indices."""
    indices = torch.randint(0, 16, (2, 3, 4, 5))
    erased = torch.zeros(2, 60, dtype=torch.bool)
    erased[0, 10:30] = True
    received = decoder_input(indices, erased, 16)
    assert torch.equal(received.reshape(2, -1)[erased], torch.full((20,), 16))
    assert torch.equal(received.reshape(2, -1)[~erased], indices.reshape(2, -1)[~erased])


def test_fine_tuning_moves_only_the_decoder_and_the_erasure_rows(source):
    """After a few steps the projections, FiLM and codebooks are bit-identical to the source
    (so are the indices on air), while the decoder and the erasure rows changed and every
    logged loss is finite."""
    model = add_erasure_token(source)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    settings = ErasureFinetuneSettings(steps=3, batch_size=4, lr=1e-2, cw_data_bytes=5,
                                       clean_probability=0.0)
    tuner = ErasureFinetuner(model, settings, _FakeBatches(), judge=FakeJudge())
    records = [tuner.train_step() for _ in range(3)]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in records)
    assert any(r["erased_fraction"] > 0 for r in records)
    after = model.state_dict()
    for key, value in before.items():
        if not (key.startswith("decoder.") or key == "quantizer.erasure_codewords"):
            assert torch.equal(after[key], value), f"{key} changed"
    assert not torch.equal(after["quantizer.erasure_codewords"], before["quantizer.erasure_codewords"])
    assert not torch.equal(after["decoder.head.weight"], before["decoder.head.weight"])


def test_fine_tuner_refuses_a_codec_without_the_token_and_bad_settings(source):
    """A codec without the erasure row and out-of-range settings raise ValueError naming them."""
    with pytest.raises(ValueError, match="no erasure token"):
        ErasureFinetuner(source, ErasureFinetuneSettings(), _FakeBatches(), judge=FakeJudge())
    with pytest.raises(ValueError, match="max_erased_fraction"):
        ErasureFinetuneSettings(max_erased_fraction=1.2)
    with pytest.raises(ValueError, match="steps"):
        ErasureFinetuneSettings(steps=0)


class _AnsweringBackbone(FakeBackbone):
    """FakeBackbone with a tokenizer (the sweep tokenises the world's questions)."""

    def tokenize(self, texts):
        return make_token_ids(len(texts))


class _BrightnessJudge:
    """Answers "bright" or "dark" from the image mean: enough to compare two decoders."""

    def answer(self, images, questions):
        return ["bright" if float(im.mean()) > 0.5 else "dark" for im in images]


def test_erasure_sweep_reports_both_decoders_and_agrees_without_erasures():
    """With no failed codeword both decoders see the clean indices, so an untrained erasure
    row gives identical figures; with every codeword failed the figures are still rates in
    [0, 1]; a source passed as 'tuned' (no erasure row) is refused."""
    from uoisc_train.training.erasure_eval import erasure_sweep
    torch.manual_seed(0)
    # The world draws scenes of 64 pixels at least: the fake backbone with 16-pixel patches.
    source = UOISC(tiny_config(image_size=64), backbone=_AnsweringBackbone(image_size=64, patch=16)).eval()
    tuned = add_erasure_token(source)
    points = erasure_sweep(source, tuned, _BrightnessJudge(), "test_zeroshot", 2, [0.0, 1.0],
                           cw_data_bytes=5)
    assert [p["fraction"] for p in points] == [0.0, 1.0] and points[0]["n_pairs"] == 10
    assert points[0]["source"] == points[0]["tuned"]
    assert points[1]["n_failed_codewords"] == codeword_index_table(192, 4, 5).shape[0]
    assert all(0.0 <= p[d]["answer_match_rate"] <= 1.0 for p in points for d in ("source", "tuned"))
    with pytest.raises(ValueError, match="no erasure token"):
        erasure_sweep(source, source, _BrightnessJudge(), "test_zeroshot", 1, [0.0])
