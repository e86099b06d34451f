"""The nanoLLaVA judge's code path on a tiny random LLaVA built offline, and its offline error.

The tiny model is transformers' own LlavaForConditionalGeneration (CLIP vision
tower + Llama text model, random init) with a word-level tokenizer that has a
chat template: the same prompt building, differentiable preprocessing,
embedding splice, hidden-state selection and greedy decoding as nanoLLaVA.
"""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from uoisc_train.compat import import_torchvision

import_torchvision()  # transformers imports torchvision
import tokenizers  # noqa: E402  (requirements pin transformers; a missing one must fail, not skip)
import transformers  # noqa: E402

from uoisc_train.judges.nanollava import LlavaJudge, TransformersLlavaEncoder  # noqa: E402

WORDS = ["[PAD]", "[UNK]", "</s>", "user", "assistant", ":", "what", "colour", "is", "the", "circle",
         "where", "star", "?", "answer", "with", "one", "word", ".", "red", "left"]
QUESTIONS = ["What colour is the circle?", "Where is the star?"]
IMAGE_SIZE, PATCH, HIDDEN = 32, 8, 32


def _tiny_tokenizer():
    vocab = {w: i for i, w in enumerate(WORDS)}
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    backend.normalizer = tokenizers.normalizers.Lowercase()
    backend.pre_tokenizer = tokenizers.pre_tokenizers.Sequence(
        [tokenizers.pre_tokenizers.WhitespaceSplit(), tokenizers.pre_tokenizers.Punctuation()])
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", eos_token="</s>")
    tokenizer.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }} {% endfor %}"
                               "{% if add_generation_prompt %}assistant:{% endif %}")
    return tokenizer


@pytest.fixture(scope="module")
def tiny_llava():
    torch.manual_seed(0)
    vision = transformers.CLIPVisionConfig(hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
                                           num_attention_heads=2, image_size=IMAGE_SIZE, patch_size=PATCH)
    text = transformers.LlamaConfig(vocab_size=len(WORDS), hidden_size=HIDDEN, intermediate_size=64,
                                    num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                    max_position_embeddings=128)
    config = transformers.LlavaConfig(vision_config=vision, text_config=text, image_token_index=len(WORDS),
                                      vision_feature_layer=-2, vision_feature_select_strategy="default")
    return transformers.LlavaForConditionalGeneration(config).eval(), _tiny_tokenizer()


def _judge(tiny_llava, **options):
    model, tokenizer = tiny_llava
    return LlavaJudge(model, tokenizer, TransformersLlavaEncoder(model), **options)


def test_hidden_is_image_tokens_of_last_layer(tiny_llava):
    """hidden() gives N x K x D with K = patches of the vision tower, equal to the LM's states at those positions."""
    judge = _judge(tiny_llava)
    images = torch.rand(2, 3, 64, 64)
    hidden = judge.hidden(images, QUESTIONS)
    n_patches = (IMAGE_SIZE // PATCH) ** 2
    assert hidden.shape == (2, n_patches, HIDDEN)
    # Independent check for sample 0: run the unpadded sequence alone and slice after the prompt prefix.
    before, _ = judge._prompt_ids(QUESTIONS[0])
    sequences, _, _ = judge._sequences(images[:1], QUESTIONS[:1])
    alone = judge.model(inputs_embeds=sequences[0][None], output_hidden_states=True).hidden_states[-1]
    torch.testing.assert_close(hidden[0], alone[0, len(before):len(before) + n_patches], rtol=1e-4, atol=1e-5)


def test_relevance_loss_zero_for_identical_and_grad_to_reconstruction(tiny_llava):
    """Eq. 11 through the LLaVA path: 0 for identical images, > 0 otherwise, gradients reach the reconstruction."""
    judge = _judge(tiny_llava)
    original = torch.rand(2, 3, 64, 64)
    assert judge.relevance_loss(original, original.clone(), QUESTIONS).item() == pytest.approx(0.0, abs=1e-5)
    reconstructed = (original * 0.3).requires_grad_(True)
    loss = judge.relevance_loss(original, reconstructed, QUESTIONS)
    assert loss.item() > 0
    loss.backward()
    assert reconstructed.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in judge.model.parameters())


def test_image_first_prompt_makes_hidden_query_independent(tiny_llava):
    """Causal attention: with nanoLLaVA's image-first prompt the image tokens cannot see the question;
    with question_before_image=True they can."""
    images = torch.rand(1, 3, 64, 64).repeat(2, 1, 1, 1)
    image_first = _judge(tiny_llava).hidden(images, QUESTIONS)
    torch.testing.assert_close(image_first[0], image_first[1])
    question_first = _judge(tiny_llava, question_before_image=True).hidden(images, QUESTIONS)
    assert not torch.allclose(question_first[0], question_first[1])


def test_answer_decodes_one_word_per_question(tiny_llava):
    """answer() returns one normalised (lower-case, single word, no punctuation) string per image."""
    answers = _judge(tiny_llava, max_new_tokens=3).answer(torch.rand(2, 3, 64, 64), QUESTIONS)
    assert len(answers) == 2
    assert all(isinstance(a, str) and " " not in a and not a.endswith(".") for a in answers)


def test_bad_arguments(tiny_llava):
    """A zero decoding budget or mismatched questions are ValueErrors."""
    with pytest.raises(ValueError, match="max_new_tokens"):
        _judge(tiny_llava, max_new_tokens=0)
    with pytest.raises(ValueError):
        _judge(tiny_llava).hidden(torch.rand(2, 3, 64, 64), QUESTIONS[:1])


def test_nanollava_offline_gives_clear_error():
    """Loading qnguyen3/nanoLLaVA with HF_HUB_OFFLINE=1 and no cache raises JudgeWeightsUnavailableError
    telling the user what to do."""
    script = textwrap.dedent("""
        from uoisc_train.judges.nanollava import NanoLlavaJudge, JudgeWeightsUnavailableError
        try:
            NanoLlavaJudge("qnguyen3/nanoLLaVA")
        except JudgeWeightsUnavailableError as error:
            print("CLEAR:", error)
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": os.environ.get("HF_HOME", "/nonexistent-hf-home")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "CLEAR:" in result.stdout and "no internet" in result.stdout


def test_question_containing_the_placeholder_is_refused(tiny_llava):
    """A question that itself contains "<image>" would misplace the image tokens: ValueError, not garbage."""
    with pytest.raises(ValueError, match="<image>"):
        _judge(tiny_llava).hidden(torch.rand(1, 3, 64, 64), ["What is <image> here?"])
