"""nanoLLaVA (and other LLaVA-style models) as the VQA judge, through transformers.

This is the paper's judge (Section IV uses ``qnguyen3/nanoLLaVA`` for eq. 11).
Users with the weights run it; offline, the same code runs on a tiny random
LLaVA built from a config (see ``tests/test_judge_nanollava.py``).

How it works, for any LLaVA-style model:

1. the prompt is the model's chat template around ``"<image>\\n{question}"``;
   the text before and after ``<image>`` is tokenised;
2. the image is resized and normalised *differentiably* (the codec's
   reconstruction must receive gradients) and turned into image-token
   embeddings by the vision tower + projector (an :class:`ImageTokenEncoder`);
3. ``[prefix embeddings, image tokens, suffix embeddings]`` go through the
   language model as ``inputs_embeds``;
4. :meth:`LlavaJudge.hidden` returns the last hidden states at the image-token
   positions (eq. 11's ``h``); :meth:`LlavaJudge.answer` decodes greedily.

Note on eq. 11: in a causal language model the image tokens precede the
question in nanoLLaVA's prompt, so their hidden states cannot depend on the
question. ``question_before_image=True`` puts the question first, which makes
the image-token states query-dependent (a deviation from the published prompt).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from uoisc_train.compat import import_torchvision
from uoisc_train.judges.base import VqaJudge, check_judge_inputs

__all__ = ["NANOLLAVA_ID", "ImageTokenEncoder", "TransformersLlavaEncoder", "NanoLlavaEncoder",
           "LlavaJudge", "NanoLlavaJudge", "JudgeWeightsUnavailableError"]

_log = logging.getLogger(__name__)

NANOLLAVA_ID = "qnguyen3/nanoLLaVA"
IMAGE_PLACEHOLDER = "<image>"
# CLIP's statistics: the default when a model ships no image processor.
_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class JudgeWeightsUnavailableError(RuntimeError):
    """The judge's weights are neither cached nor downloadable (offline machine)."""


class ImageTokenEncoder(abc.ABC):
    """Pixels -> image-token embeddings in the language model's space, for one LLaVA flavour."""

    def __init__(self, image_size: tuple[int, int], mean: Sequence[float], std: Sequence[float]):
        self.image_size = tuple(int(s) for s in image_size)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Differentiable stand-in for the image processor: resize (bicubic) and normalise."""
        if tuple(images.shape[-2:]) != self.image_size:
            images = F.interpolate(images, size=self.image_size, mode="bicubic", align_corners=False)
        return (images - self.mean.to(images)) / self.std.to(images)

    @abc.abstractmethod
    def encode(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """``N x K x D`` image-token embeddings of preprocessed images."""


def _processor_geometry(processor, fallback_size: int) -> tuple[tuple[int, int], Sequence, Sequence]:
    """Size, mean and std from a transformers image processor (or CLIP defaults)."""
    if processor is None:
        return (fallback_size, fallback_size), _CLIP_MEAN, _CLIP_STD
    size = getattr(processor, "crop_size", None) or getattr(processor, "size", None)
    if isinstance(size, dict):
        size = (size.get("height", size.get("shortest_edge")), size.get("width", size.get("shortest_edge")))
    elif isinstance(size, int):
        size = (size, size)
    return tuple(size), processor.image_mean, processor.image_std


class TransformersLlavaEncoder(ImageTokenEncoder):
    """For transformers' own ``LlavaForConditionalGeneration`` (llava-hf models, tests)."""

    def __init__(self, model: nn.Module, image_processor=None):
        size, mean, std = _processor_geometry(image_processor, model.config.vision_config.image_size)
        super().__init__(size, mean, std)
        self.model = model

    def encode(self, pixel_values: torch.Tensor) -> torch.Tensor:
        config = self.model.config
        out = self.model.get_image_features(
            pixel_values=pixel_values.to(self.model.dtype),
            vision_feature_layer=config.vision_feature_layer,
            vision_feature_select_strategy=config.vision_feature_select_strategy)
        # transformers 5 wraps the per-image features in an output object; 4.x returned them.
        features = getattr(out, "pooler_output", out)
        return torch.stack(list(features)) if isinstance(features, (list, tuple)) else features


class NanoLlavaEncoder(ImageTokenEncoder):
    """For nanoLLaVA's remote code (Bunny/LLaVA architecture: ``encode_images``)."""

    def __init__(self, model: nn.Module):
        processor = model.get_vision_tower().image_processor
        size, mean, std = _processor_geometry(processor, 384)
        super().__init__(size, mean, std)
        self.model = model

    def encode(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.encode_images(pixel_values.to(self.model.dtype))


def _normalise_answer(text: str) -> str:
    """First word, lower case, without punctuation: "Red." -> "red"."""
    words = text.strip().lower().split()
    return words[0].strip(".,;:!?\"'") if words else ""


class LlavaJudge(nn.Module, VqaJudge):
    """A loaded LLaVA-style model as a :class:`VqaJudge` (frozen, eval mode).

    Args:
        model: a causal LM accepting ``inputs_embeds`` (LLaVA / nanoLLaVA).
        tokenizer: its tokenizer, with a chat template.
        encoder: turns pixels into the model's image-token embeddings.
        instruction: appended to each question to get one-word answers.
        question_before_image: put the question before the image in the prompt
            (see the module docstring on eq. 11); False is nanoLLaVA's format.
        max_new_tokens: greedy decoding budget of :meth:`answer`.
    """

    def __init__(self, model: nn.Module, tokenizer, encoder: ImageTokenEncoder,
                 instruction: str = "Answer with one word.", question_before_image: bool = False,
                 max_new_tokens: int = 6):
        super().__init__()
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.instruction = instruction
        self.question_before_image = question_before_image
        self.max_new_tokens = max_new_tokens

    def train(self, mode: bool = True) -> "LlavaJudge":
        """Frozen judge: always eval."""
        return super().train(False)

    def _prompt_ids(self, question: str) -> tuple[list[int], list[int]]:
        """Token ids of the chat-templated prompt before and after the image placeholder."""
        query = f"{question} {self.instruction}".strip()
        content = f"{query}\n{IMAGE_PLACEHOLDER}" if self.question_before_image else f"{IMAGE_PLACEHOLDER}\n{query}"
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": content}],
                                                  tokenize=False, add_generation_prompt=True)
        if text.count(IMAGE_PLACEHOLDER) != 1:
            raise ValueError(f"the chat template must keep exactly one {IMAGE_PLACEHOLDER!r}; got {text!r}")
        before, after = text.split(IMAGE_PLACEHOLDER)
        encode = lambda part: self.tokenizer(part, add_special_tokens=False)["input_ids"]
        return encode(before), encode(after)

    def _sequences(self, images: torch.Tensor, questions: Sequence[str]):
        """Per sample: the embedded multimodal sequence and where its image tokens start."""
        check_judge_inputs(images, questions)
        image_tokens = self.encoder.encode(self.encoder.preprocess(images))
        embed = self.model.get_input_embeddings()
        device = image_tokens.device
        sequences, starts = [], []
        for tokens, question in zip(image_tokens, questions):
            before, after = self._prompt_ids(question)
            parts = [embed(torch.tensor(before, device=device, dtype=torch.long)), tokens.to(embed.weight.dtype),
                     embed(torch.tensor(after, device=device, dtype=torch.long))]
            sequences.append(torch.cat(parts))
            starts.append(len(before))
        return sequences, starts, image_tokens.shape[1]

    def hidden(self, images: torch.Tensor, questions: Sequence[str], layer: int = -1) -> torch.Tensor:
        """Hidden states ``N x K x D`` of the language model at the ``K`` image-token positions.

        Args:
            images: ``N x 3 x H x W`` in [0, 1].
            questions: one per image.
            layer: which entry of the model's ``hidden_states`` (-1: the last).
        """
        sequences, starts, n_image_tokens = self._sequences(images, questions)
        length = max(len(s) for s in sequences)
        # Right padding: with causal attention it cannot change earlier positions.
        padded = torch.stack([F.pad(s, (0, 0, 0, length - len(s))) for s in sequences])
        mask = torch.zeros(padded.shape[:2], dtype=torch.long, device=padded.device)
        for row, sequence in enumerate(sequences):
            mask[row, :len(sequence)] = 1
        states = self.model(inputs_embeds=padded, attention_mask=mask,
                            output_hidden_states=True).hidden_states[layer]
        return torch.stack([states[row, start:start + n_image_tokens] for row, start in enumerate(starts)]).float()

    @torch.no_grad()
    def answer(self, images: torch.Tensor, questions: Sequence[str]) -> list[str]:
        """Greedy answers, normalised to their first lower-case word.

        Decoding re-runs the full sequence at each step (no KV cache): slower,
        but it relies only on ``forward(inputs_embeds=...)``, which every
        LLaVA flavour supports, and answers are a few tokens long.
        """
        sequences, _, _ = self._sequences(images, questions)
        embed = self.model.get_input_embeddings()
        eos = self.tokenizer.eos_token_id
        answers = []
        for sequence in sequences:
            generated: list[int] = []
            current = sequence.unsqueeze(0)
            for _ in range(self.max_new_tokens):
                logits = self.model(inputs_embeds=current).logits[0, -1]
                token = int(logits.argmax())
                if token == eos:
                    break
                generated.append(token)
                next_embedding = embed(torch.tensor([[token]], device=current.device))
                current = torch.cat([current, next_embedding], dim=1)
            answers.append(_normalise_answer(self.tokenizer.decode(generated, skip_special_tokens=True)))
        return answers


class NanoLlavaJudge(LlavaJudge):
    """``qnguyen3/nanoLLaVA`` (SigLIP + Qwen1.5-0.5B) loaded with ``trust_remote_code``.

    Args:
        model_id: Hugging Face id or local folder of the weights.
        dtype: weights dtype (float16 on GPU, float32 on CPU).
        device: where to run.
        **judge_options: see :class:`LlavaJudge`.

    Raises:
        JudgeWeightsUnavailableError: the weights are not cached and cannot be
            downloaded (e.g. offline, ``HF_HUB_OFFLINE=1``).
    """

    def __init__(self, model_id: str = NANOLLAVA_ID, dtype: torch.dtype = torch.float32,
                 device: str | torch.device = "cpu", **judge_options):
        import_torchvision()  # transformers imports torchvision when it is installed
        import transformers
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(
                model_id, torch_dtype=dtype, trust_remote_code=True)
            tokenizer = transformers.AutoTokenizer.from_pretrained(model_id, trust_remote_code=True)
        except OSError as error:
            raise JudgeWeightsUnavailableError(
                f"cannot load {model_id!r}: no internet and not in the Hugging Face cache. "
                f"Download it on a connected machine (huggingface-cli download {model_id}) or pass "
                f"a local folder as model_id. Offline, use the tiny judge (load_tiny_judge()). "
                f"Original error: {error}") from error
        model = model.to(device)
        super().__init__(model, tokenizer, NanoLlavaEncoder(model), **judge_options)
