"""The user-scale text receiver: a GPT-2 prefix captioner (ClipCap) through transformers.

Same idea as :mod:`uoisc_train.vlf.caption`, with a real pretrained language model:
an MLP maps the received ``N x E`` feature to ``P`` embeddings of GPT-2's width,
given to ``GPT2LMHeadModel`` as ``inputs_embeds`` before the caption's token
embeddings; the loss is the LM's cross-entropy on the caption tokens only.
:meth:`Gpt2PrefixCaptioner.from_pretrained` loads ``"gpt2"`` (or any GPT-2
checkpoint) and its tokenizer from the Hugging Face hub or cache; offline and
uncached it raises :class:`~uoisc_train.clip.WeightsUnavailableError` with what to do.
The offline tests build it on a tiny random ``GPT2Config``.
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor, nn

from uoisc_train.clip.backbone import WeightsUnavailableError

__all__ = ["Gpt2PrefixCaptioner", "IGNORE_INDEX"]

_log = logging.getLogger(__name__)

#: Label value the LM loss ignores (prefix and padding positions).
IGNORE_INDEX = -100


class Gpt2PrefixCaptioner(nn.Module):
    """MLP mapping network + GPT-2 language model.

    Args:
        lm: a ``transformers.GPT2LMHeadModel``.
        embed_dim: ``E``, size of the received feature.
        prefix_length: ``P``, prefix embeddings per feature.
        freeze_lm: train only the mapping network (ClipCap's lighter variant).
    """

    def __init__(self, lm: nn.Module, embed_dim: int, prefix_length: int = 10, freeze_lm: bool = False):
        super().__init__()
        if embed_dim < 1 or prefix_length < 1:
            raise ValueError(f"embed_dim={embed_dim} and prefix_length={prefix_length} must be positive")
        self.lm, self.embed_dim, self.prefix_length = lm, embed_dim, prefix_length
        width = lm.config.n_embd
        hidden = (width * prefix_length) // 2
        self.mapping = nn.Sequential(nn.Linear(embed_dim, hidden), nn.Tanh(),
                                     nn.Linear(hidden, width * prefix_length))
        if freeze_lm:
            self.lm.requires_grad_(False)

    @classmethod
    def from_pretrained(cls, embed_dim: int, pretrained: str = "gpt2", prefix_length: int = 10,
                        freeze_lm: bool = False, cache_dir: str | None = None,
                        local_files_only: bool = False):
        """GPT-2 weights and tokenizer from the hub or the local cache.

        Args:
            embed_dim: ``E`` of the received feature (e.g. 512 for ViT-B-16).
            pretrained: hub id or local folder (``"gpt2"``, ``"gpt2-medium"``, ...).
            prefix_length, freeze_lm: see the class.
            cache_dir: Hugging Face cache folder (default: the library's).
            local_files_only: never touch the network.

        Returns:
            ``(captioner, tokenizer)``; the tokenizer's pad token is set to its eos token.

        Raises:
            WeightsUnavailableError: the weights are neither cached nor downloadable.
        """
        from transformers import GPT2LMHeadModel, GPT2TokenizerFast

        try:
            lm = GPT2LMHeadModel.from_pretrained(pretrained, cache_dir=cache_dir,
                                                 local_files_only=local_files_only)
            tokenizer = GPT2TokenizerFast.from_pretrained(pretrained, cache_dir=cache_dir,
                                                          local_files_only=local_files_only)
        except OSError as error:
            raise WeightsUnavailableError(
                f"cannot load GPT-2 weights {pretrained!r}: not in the local Hugging Face cache "
                f"and not downloadable (offline?). Download them on a connected machine "
                f"(e.g. `huggingface-cli download {pretrained}`) and copy the cache, or pass a "
                f"local folder as pretrained=. Original error: {error}") from error
        tokenizer.pad_token = tokenizer.eos_token
        _log.info("loaded %s (%d layers, width %d)", pretrained, lm.config.n_layer, lm.config.n_embd)
        return cls(lm, embed_dim, prefix_length, freeze_lm), tokenizer

    def prefix(self, features: Tensor) -> Tensor:
        """``N x P x width`` prefix embeddings of ``N x E`` features."""
        if features.ndim != 2 or features.shape[1] != self.embed_dim:
            raise ValueError(f"features of shape {tuple(features.shape)}; expected N x {self.embed_dim}")
        return self.mapping(features).view(features.shape[0], self.prefix_length, -1)

    def forward(self, features: Tensor, token_ids: Tensor, attention_mask: Tensor | None = None
                ) -> dict[str, Tensor]:
        """Teacher-forced pass over ``[prefix, caption tokens]``.

        Args:
            features: ``N x E`` received features.
            token_ids: int64 ``N x T`` caption tokens (GPT-2 tokenizer, eos appended).
            attention_mask: ``N x T``, 1 for real tokens (default: all real).

        Returns:
            ``logits`` at the caption positions (``N x T x vocab``) and ``loss``
            (cross-entropy of the caption tokens; prefix and padding ignored).
        """
        if token_ids.ndim != 2 or token_ids.shape[0] != features.shape[0]:
            raise ValueError(f"token_ids of shape {tuple(token_ids.shape)} for {features.shape[0]} features")
        if attention_mask is None:
            attention_mask = torch.ones_like(token_ids)
        prefix = self.prefix(features)
        embeddings = torch.cat([prefix, self.lm.get_input_embeddings()(token_ids)], dim=1)
        mask = torch.cat([attention_mask.new_ones(prefix.shape[:2]), attention_mask], dim=1)
        labels = torch.cat([token_ids.new_full(prefix.shape[:2], IGNORE_INDEX),
                            token_ids.masked_fill(attention_mask == 0, IGNORE_INDEX)], dim=1)
        out = self.lm(inputs_embeds=embeddings, attention_mask=mask, labels=labels)
        return {"logits": out.logits[:, self.prefix_length:], "loss": out.loss}

    @torch.no_grad()
    def generate(self, features: Tensor, eos_token_id: int, max_new_tokens: int = 40,
                 beam_size: int = 1) -> Tensor:
        """Deterministic decoding (greedy or beam) through ``GPT2LMHeadModel.generate``.

        Returns:
            int64 ``N x T`` new token ids (eos then padding with eos after the end).
        """
        if max_new_tokens < 1 or beam_size < 1:
            raise ValueError(f"max_new_tokens={max_new_tokens} and beam_size={beam_size} must be >= 1")
        prefix = self.prefix(features)
        mask = torch.ones(prefix.shape[:2], dtype=torch.int64, device=prefix.device)
        return self.lm.generate(inputs_embeds=prefix, attention_mask=mask, max_new_tokens=max_new_tokens,
                                do_sample=False, num_beams=beam_size, eos_token_id=eos_token_id,
                                pad_token_id=eos_token_id)
