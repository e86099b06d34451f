"""uoisc_runtime.tokenizer.ClipTokenizer gives exactly open_clip's token ids without torch.

The reference is the tokenizer open_clip returns for the project's CLIP config (imported on
the test side only); the first test pins that it is open_clip's default ``SimpleTokenizer``, the
one the runtime re-implements, so a config change that swaps tokenizers fails here.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from uoisc_runtime.tokenizer import ClipTokenizer, TokenizerError, default_bpe_path, tokenizer_for
from uoisc_train.world.scenes import generate_scene
from uoisc_train.world.splits import ALL_SPLITS

CONTEXT = 77


@pytest.fixture(scope="module")
def reference():
    """open_clip's tokenizer of uoisc-tiny-clip (the name the shipped codec.json records)."""
    from uoisc_train.clip import register_model_configs
    from uoisc_train.compat import import_open_clip
    register_model_configs()
    return import_open_clip().get_tokenizer("uoisc-tiny-clip")


@pytest.fixture(scope="module")
def ours():
    return ClipTokenizer(CONTEXT)


def _reference_ids(reference, texts):
    return reference(texts).numpy().astype(np.int64)


def test_tiny_clip_uses_open_clips_default_simple_tokenizer(reference):
    """The tiny CLIP's tokenizer is SimpleTokenizer with clean='lower', no reduction mask, the
    default BPE file and context 77: what ClipTokenizer re-implements."""
    import open_clip.tokenizer as oc_tokenizer
    assert type(reference) is oc_tokenizer.SimpleTokenizer
    assert reference.clean_fn is oc_tokenizer._clean_lower and reference.reduction_fn is None
    assert reference.context_length == CONTEXT
    assert default_bpe_path() == __import__("pathlib").Path(oc_tokenizer.default_bpe())


def test_every_world_question_tokenises_like_open_clip(reference, ours):
    """All VQA questions of the offline world (every split, 100 scenes each) and their answers
    give identical ids."""
    qas = [qa for split in ALL_SPLITS for seed in range(100)
           for qa in generate_scene(seed, 64, split).qa]
    texts = sorted({text for qa in qas for text in (qa.question, qa.answer)})
    assert len(texts) > 40
    assert np.array_equal(ours(texts), _reference_ids(reference, texts))


EDGE_CASES = [
    "", " ", "\n\t", "A", "What colour is the CAT?", "is there a bird?!?", "it's the cat's ring",
    "they'll've", "3 cats, 12 stars and 1,000 rings", "naïve café — résumé", "東京の猫は何色ですか",
    "emoji 🐱🐟⭐ ok", "&amp;lt;b&amp;gt;bold", "  many    spaces  ", "don\u2019t", "mojibake: Ã©",
    "<start_of_text> inside", "x" * 500, "word " * 100, "a" + "\u0301" * 20,
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_tokenise_like_open_clip(reference, ours, text):
    """Empty text, punctuation, contractions, digits, accents, CJK, emoji, html entities, special
    token names and texts longer than the context give identical ids."""
    assert np.array_equal(ours(text), _reference_ids(reference, [text]))


def test_long_text_is_truncated_with_end_of_text_last(ours):
    """A text of more than 75 tokens fills all 77 ids and ends with the end-of-text id."""
    ids = ours("word " * 100)[0]
    assert ids[0] == ours.start_id and ids[-1] == ours.end_id and (ids != 0).all()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), min_size=1, max_size=3))
def test_arbitrary_unicode_tokenises_like_open_clip(reference, ours, texts):
    """Any unicode texts (hypothesis) give the same N x 77 int64 ids as open_clip."""
    ids = ours(texts)
    assert ids.dtype == np.int64 and ids.shape == (len(texts), CONTEXT)
    assert np.array_equal(ids, _reference_ids(reference, texts))


def test_bad_arguments_raise_tokenizer_error():
    """A context too short for start+end, a non-string text and a spec from another library
    raise TokenizerError (a ValueError) naming the value."""
    with pytest.raises(TokenizerError, match="context_length=1"):
        ClipTokenizer(1)
    with pytest.raises(TokenizerError, match="int"):
        ClipTokenizer()(["fine", 3])
    with pytest.raises(TokenizerError, match="hf"):
        tokenizer_for({"tokenizer": {"library": "hf", "context_length": 77}})
    with pytest.raises(TokenizerError, match="tokenizer"):
        tokenizer_for({})
    spec = {"tokenizer": {"library": "open_clip", "context_length": 16}}
    assert tokenizer_for(spec).context_length == 16
