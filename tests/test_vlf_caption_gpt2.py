"""GPT-2 prefix captioner on a tiny random GPT2Config, and its clear offline error."""

import pytest
import torch

from uoisc_train.clip import WeightsUnavailableError
from uoisc_train.vlf.caption_gpt2 import Gpt2PrefixCaptioner

transformers = pytest.importorskip("transformers")

E, VOCAB, EOS = 12, 50, 49


def tiny_captioner(**kwargs):
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=2,
                                     bos_token_id=EOS, eos_token_id=EOS)
    return Gpt2PrefixCaptioner(transformers.GPT2LMHeadModel(config), embed_dim=E, prefix_length=3, **kwargs)


def test_prefix_and_logit_shapes():
    """The prefix is N x P x n_embd and the logits cover only the caption positions."""
    captioner = tiny_captioner()
    features, tokens = torch.randn(2, E), torch.randint(0, VOCAB, (2, 5))
    assert captioner.prefix(features).shape == (2, 3, 32)
    out = captioner(features, tokens)
    assert out["logits"].shape == (2, 5, VOCAB) and torch.isfinite(out["loss"])


def test_loss_ignores_padding_positions():
    """Changing a padded token does not change the loss."""
    captioner = tiny_captioner().eval()
    features = torch.randn(1, E)
    mask = torch.tensor([[1, 1, 1, 0]])
    first = captioner(features, torch.tensor([[4, 5, 6, 7]]), mask)["loss"]
    second = captioner(features, torch.tensor([[4, 5, 6, 30]]), mask)["loss"]
    torch.testing.assert_close(first, second)


def test_mapping_learns_with_a_frozen_lm():
    """With freeze_lm only the mapping network trains, and five Adam steps lower the loss."""
    captioner = tiny_captioner(freeze_lm=True)
    assert not any(p.requires_grad for p in captioner.lm.parameters())
    features, tokens = torch.randn(4, E), torch.randint(0, VOCAB, (4, 6))
    optimiser = torch.optim.Adam([p for p in captioner.parameters() if p.requires_grad], lr=1e-2)
    first = float(captioner(features, tokens)["loss"].detach())
    for _ in range(5):
        loss = captioner(features, tokens)["loss"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(captioner(features, tokens)["loss"].detach()) < first


def test_greedy_generation_is_deterministic_with_the_asked_length():
    """generate returns int64 N x T with T <= max_new_tokens, the same on a second call."""
    captioner = tiny_captioner().eval()
    features = torch.randn(2, E, generator=torch.Generator().manual_seed(1))
    first = captioner.generate(features, eos_token_id=EOS, max_new_tokens=6)
    assert first.dtype == torch.int64 and first.shape[0] == 2 and first.shape[1] <= 6
    assert torch.equal(first, captioner.generate(features, eos_token_id=EOS, max_new_tokens=6))


def test_pretrained_gpt2_offline_gives_a_clear_error(tmp_path):
    """Without cached weights (empty cache, no network) loading "gpt2" names the cause and the fix."""
    with pytest.raises(WeightsUnavailableError, match="cannot load GPT-2 weights 'gpt2'.*local folder"):
        Gpt2PrefixCaptioner.from_pretrained(embed_dim=E, pretrained="gpt2", cache_dir=str(tmp_path),
                                            local_files_only=True)


def test_bad_feature_width_is_refused():
    """A feature of the wrong width raises ValueError naming the expected shape."""
    with pytest.raises(ValueError, match=f"N x {E}"):
        tiny_captioner().prefix(torch.randn(2, E + 1))
