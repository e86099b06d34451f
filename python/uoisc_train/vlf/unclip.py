"""The user-scale image receiver: Stable unCLIP-style generation from a CLIP image embedding (diffusers).

At user scale the VLF-MSC feature is the image embedding of OpenCLIP ViT-H/14, exactly what
Stability's ``stable-diffusion-2-1-unclip`` conditions on: the embedding is normalised,
noised to a chosen ``noise_level`` (a second DDPM schedule), un-normalised, concatenated with
a sinusoidal embedding of that noise level and fed to a ``UNet2DConditionModel`` with
``class_embed_type="projection"`` as its class label (added to the timestep embedding); the
text prompt stays empty. Classifier-free guidance uses a zero image embedding as the
unconditional branch.

- :func:`load_stable_unclip` / :func:`generate_with_stable_unclip`: the real checkpoint
  through ``StableUnCLIPImg2ImgPipeline`` (weights must be in the local Hugging Face cache or
  a folder; offline, a clear :class:`UnclipWeightsUnavailableError` says what is missing).
- :class:`UnclipImageDecoder`: the same conditioning on a pixel-space U-Net of any size,
  built from diffusers parts, tested offline on a tiny random config.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from uoisc_train.compat import import_torchvision

__all__ = ["STABLE_UNCLIP_REPO", "PIPELINE_COMPONENTS", "UnclipWeightsUnavailableError",
           "load_stable_unclip", "generate_with_stable_unclip", "tiny_unet_kwargs",
           "UnclipImageDecoder"]

_log = logging.getLogger(__name__)

#: Stable unCLIP conditioned on OpenCLIP ViT-H/14 image embeddings (1024-d).
STABLE_UNCLIP_REPO = "stabilityai/stable-diffusion-2-1-unclip"
#: Sub-folders ``StableUnCLIPImg2ImgPipeline`` loads (``model_index.json`` lists them).
PIPELINE_COMPONENTS = ("feature_extractor", "image_encoder", "image_normalizer",
                       "image_noising_scheduler", "tokenizer", "text_encoder", "unet",
                       "scheduler", "vae")


class UnclipWeightsUnavailableError(RuntimeError):
    """The Stable unCLIP weights are neither in a local folder nor in the Hugging Face cache."""


def _diffusers():
    # transformers (imported by the unCLIP pipeline) imports torchvision: guard it first.
    import_torchvision()
    import diffusers
    return diffusers


def _missing_parts(folder: Path) -> list[str]:
    """What a local pipeline folder lacks: ``model_index.json`` or component sub-folders."""
    index = folder / "model_index.json"
    if not index.is_file():
        return ["model_index.json"]
    listed = [k for k, v in json.loads(index.read_text()).items()
              if not k.startswith("_") and isinstance(v, list)]
    return [f"{name}/" for name in listed if not (folder / name).is_dir()]


def load_stable_unclip(source: str = STABLE_UNCLIP_REPO, device: str = "cpu",
                       dtype: torch.dtype = torch.float32, local_files_only: bool = True,
                       cache_dir: str | None = None):
    """``StableUnCLIPImg2ImgPipeline`` from a local folder or a Hugging Face repo id.

    Args:
        source: a folder holding the pipeline (``model_index.json`` + component folders) or a
            repo id such as :data:`STABLE_UNCLIP_REPO`.
        device, dtype: where and in which precision to run it.
        local_files_only: True (default, offline machines): only the local cache is used;
            False lets diffusers download the weights (~5 GB).
        cache_dir: Hugging Face cache to search (None: the default, ``~/.cache/huggingface/hub``).

    Raises:
        UnclipWeightsUnavailableError: the weights cannot be found; the message names the
            missing files or the cache that was searched and how to fill it.
    """
    folder = Path(source)
    if folder.is_dir():
        missing = _missing_parts(folder)
        if missing:
            raise UnclipWeightsUnavailableError(
                f"{folder} is not a complete Stable unCLIP pipeline folder: missing {missing} "
                f"(expected model_index.json and {list(PIPELINE_COMPONENTS)})")
    pipeline_class = _diffusers().StableUnCLIPImg2ImgPipeline
    try:
        pipeline = pipeline_class.from_pretrained(source, dtype=dtype, cache_dir=cache_dir,
                                                  local_files_only=local_files_only)
    except (OSError, ValueError) as error:
        raise UnclipWeightsUnavailableError(
            f"cannot load Stable unCLIP weights {source!r}"
            f"{' from the local Hugging Face cache (local_files_only=True)' if local_files_only else ''}: "
            f"{error}. On a connected machine run `huggingface-cli download {STABLE_UNCLIP_REPO}` "
            f"(it fills ~/.cache/huggingface/hub) or save the pipeline to a folder and pass its "
            f"path.") from error
    return pipeline.to(device)


def generate_with_stable_unclip(pipeline, image_embeds: torch.Tensor, steps: int = 20,
                                guidance: float = 10.0, noise_level: int = 0,
                                seed: int = 0) -> torch.Tensor:
    """Images ``N x 3 x H x W`` in [0, 1] from received CLIP image embeddings (empty prompt).

    Args:
        pipeline: from :func:`load_stable_unclip`.
        image_embeds: ``N x E`` embeddings; ``E`` must be the one the pipeline's U-Net was
            trained on (1024 for :data:`STABLE_UNCLIP_REPO`).
        steps, guidance: denoising steps and classifier-free guidance scale.
        noise_level: Stable unCLIP's embedding noise augmentation (0 = trust the embedding).
        seed: seed of the initial latents.

    Raises:
        ValueError: the embedding size does not fit the pipeline.
    """
    expected = pipeline.unet.config.projection_class_embeddings_input_dim // 2
    if image_embeds.ndim != 2 or image_embeds.shape[1] != expected:
        raise ValueError(f"image_embeds of shape {tuple(image_embeds.shape)}; this pipeline "
                         f"conditions on N x {expected} CLIP image embeddings")
    generator = torch.Generator(device="cpu").manual_seed(seed)
    n = image_embeds.shape[0]
    result = pipeline(prompt=[""] * n, image_embeds=image_embeds.to(pipeline.device, pipeline.unet.dtype),
                      num_inference_steps=steps, guidance_scale=guidance, noise_level=noise_level,
                      generator=generator, output_type="pt")
    return result.images.float().clamp(0, 1)


def tiny_unet_kwargs(embed_dim: int, sample_size: int = 8, channels: tuple[int, int] = (8, 16),
                     cross_attention_dim: int = 16) -> dict[str, Any]:
    """``UNet2DConditionModel`` arguments of a tiny pixel-space unCLIP U-Net (tests, experiments)."""
    return dict(sample_size=sample_size, in_channels=3, out_channels=3, layers_per_block=1,
                block_out_channels=tuple(channels),
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                norm_num_groups=min(channels[0], 4), cross_attention_dim=cross_attention_dim,
                attention_head_dim=4, class_embed_type="projection",
                projection_class_embeddings_input_dim=2 * embed_dim)


class UnclipImageDecoder(nn.Module):
    """Stable unCLIP's image-embedding conditioning around a pixel-space ``UNet2DConditionModel``.

    The class label of the U-Net is ``[noised(embedding), sinusoid(noise_level)]`` (``2E``
    wide), computed by diffusers' own ``StableUnCLIPImg2ImgPipeline.noise_image_embeddings``;
    the cross-attention input is a learned stand-in for the empty prompt's text embedding.

    Args:
        embed_dim: ``E``, size of the CLIP image embeddings.
        unet_kwargs: ``UNet2DConditionModel`` arguments (see :func:`tiny_unet_kwargs`); must
            use ``class_embed_type="projection"`` with ``projection_class_embeddings_input_dim = 2E``.
        noising_timesteps: steps of the embedding-noising DDPM schedule (Stable unCLIP: 1000).
    """

    def __init__(self, embed_dim: int, unet_kwargs: dict[str, Any], noising_timesteps: int = 1000):
        super().__init__()
        diffusers = _diffusers()
        from diffusers.pipelines.stable_diffusion.stable_unclip_image_normalizer import (
            StableUnCLIPImageNormalizer)
        if (unet_kwargs.get("class_embed_type") != "projection"
                or unet_kwargs.get("projection_class_embeddings_input_dim") != 2 * embed_dim):
            raise ValueError(f"unet_kwargs must set class_embed_type='projection' and "
                             f"projection_class_embeddings_input_dim={2 * embed_dim}, got "
                             f"{unet_kwargs.get('class_embed_type')!r}, "
                             f"{unet_kwargs.get('projection_class_embeddings_input_dim')!r}")
        self.embed_dim = embed_dim
        self.unet = diffusers.UNet2DConditionModel(**unet_kwargs)
        self.image_normalizer = StableUnCLIPImageNormalizer(embedding_dim=embed_dim)
        self.image_noising_scheduler = diffusers.DDPMScheduler(num_train_timesteps=noising_timesteps,
                                                               beta_schedule="squaredcos_cap_v2")
        self.scheduler = diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
                                                 clip_sample=True, set_alpha_to_one=True)
        self.empty_prompt = nn.Parameter(torch.zeros(1, 1, self.unet.config.cross_attention_dim))

    def class_labels(self, image_embeds: torch.Tensor, noise_level: int = 0,
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """``N x 2E`` class labels of the U-Net, exactly as Stable unCLIP builds them."""
        if image_embeds.ndim != 2 or image_embeds.shape[1] != self.embed_dim:
            raise ValueError(f"image_embeds of shape {tuple(image_embeds.shape)}; expected N x {self.embed_dim}")
        noise_image_embeddings = _diffusers().StableUnCLIPImg2ImgPipeline.noise_image_embeddings
        # The pipeline's method only reads self.image_normalizer / self.image_noising_scheduler.
        return noise_image_embeddings(self, image_embeds, noise_level, generator=generator)

    def predict_noise(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        prompt = self.empty_prompt.expand(x.shape[0], -1, -1)
        return self.unet(x, t, encoder_hidden_states=prompt, class_labels=labels).sample

    def forward(self, images: torch.Tensor, image_embeds: torch.Tensor,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Epsilon-prediction loss of images in [0, 1] (``N x 3 x S x S``) given their embeddings."""
        x0 = images * 2 - 1
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (x0.shape[0],), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        x_t = self.scheduler.add_noise(x0, noise, t)
        eps_hat = self.predict_noise(x_t, t, self.class_labels(image_embeds, 0, generator))
        return {"loss": F.mse_loss(eps_hat, noise), "eps_hat": eps_hat}

    @torch.no_grad()
    def sample(self, image_embeds: torch.Tensor, steps: int = 10, guidance: float = 3.0,
               noise_level: int = 0, seed: int = 0) -> torch.Tensor:
        """DDIM with classifier-free guidance (zero embedding as the null branch, like the pipeline).

        Returns:
            ``N x 3 x S x S`` images in [0, 1]; the same seed gives the same images.
        """
        if steps < 1 or guidance < 0:
            raise ValueError(f"steps={steps} must be >= 1 and guidance={guidance} >= 0")
        generator = torch.Generator().manual_seed(seed)
        n, size = image_embeds.shape[0], self.unet.config.sample_size
        guided = guidance != 1.0
        embeds = torch.cat([torch.zeros_like(image_embeds), image_embeds]) if guided else image_embeds
        labels = self.class_labels(embeds, noise_level, generator)
        x = torch.randn((n, 3, size, size), generator=generator) * self.scheduler.init_noise_sigma
        self.scheduler.set_timesteps(steps)
        for t in self.scheduler.timesteps:
            model_input = self.scheduler.scale_model_input(torch.cat([x, x]) if guided else x, t)
            eps = self.predict_noise(model_input, t.expand(model_input.shape[0]), labels)
            if guided:
                unconditional, conditional = eps.chunk(2)
                eps = unconditional + guidance * (conditional - unconditional)
            x = self.scheduler.step(eps, t, x).prev_sample
        return ((x + 1) / 2).clamp(0, 1)
