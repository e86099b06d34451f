"""VLF-MSC: one vision-language feature over the air, a caption and an image from it.

Transmitter: ``config`` (:class:`VlfConfig`), ``quantizers``, ``transmitter``
(:class:`VlfTransmitter`), ``export`` (ONNX bundle, ``mode: "vlf"``),
``compare_quantizers``. Text receiver: ``caption_vocab``, ``caption``
(:class:`CaptionDecoder`), ``caption_metrics``, ``caption_artefact``,
``caption_export`` (ONNX + numpy greedy decoding), ``train_caption``; the GPT-2
path ``caption_gpt2`` is imported on its own because it needs transformers.
``scene_features`` gives the VLF feature of generated scenes to every trainer.
Image receiver: ``diffusion_config`` (:class:`DiffusionConfig`), ``diffusion_unet``, ``diffusion_schedule``, ``diffusion``
(:class:`FeatureToImageDiffusion`), ``diffusion_artefact``, ``diffusion_eval``,
``train_generator``; ``diffusion_export`` (ONNX denoiser, imports onnx) and
``diffusion_onnx_sampler`` (re-exports the runtime's numpy DDIM) and the diffusers path
``unclip`` are imported on their own. ``bundle_cli`` writes the complete shipped bundle
(transmitter + both receivers) that ``uoisc_runtime.VlfCodec`` and the GNU Radio blocks
run. See ``docs/vlf.md``.
"""

from uoisc_train.vlf.caption import CaptionDecoder, CaptionDecoderConfig
from uoisc_train.vlf.caption_artefact import load_caption_decoder, save_caption_decoder
from uoisc_train.vlf.caption_metrics import caption_metrics, caption_scores, parse_caption
from uoisc_train.vlf.caption_vocab import CaptionVocabulary
from uoisc_train.vlf.config import QUANTIZERS, VlfConfig
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion
from uoisc_train.vlf.diffusion_artefact import load_generator, save_generator_artefact
from uoisc_train.vlf.diffusion_config import DiffusionConfig
from uoisc_train.vlf.quantizers import ScalarQuantizer, fit_codebooks
from uoisc_train.vlf.scene_features import embed_images, embed_scenes, images_to_tensor
from uoisc_train.vlf.transmitter import VlfTransmitter

__all__ = [
    "QUANTIZERS", "VlfConfig", "ScalarQuantizer", "fit_codebooks", "VlfTransmitter",
    "CaptionVocabulary", "CaptionDecoder", "CaptionDecoderConfig", "load_caption_decoder",
    "save_caption_decoder", "caption_metrics", "caption_scores", "parse_caption",
    "embed_images", "embed_scenes", "images_to_tensor",
    "DiffusionConfig", "FeatureToImageDiffusion", "load_generator", "save_generator_artefact",
]
