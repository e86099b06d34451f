"""The UO-ISC codec in PyTorch (paper Sections II-III).

Modules, one concept each: ``config`` (hyper-parameters, JSON),
``projections`` (eqs. 1-2), ``film`` (eqs. 3-4), ``vq`` (eqs. 5-7, 9, 12),
``decoder`` (eq. 10), ``model`` (the assembled codec), ``losses``
(eqs. 11-15) and ``registry`` (named configs in ``configs/*.json``). See ``docs/codec.md``.
"""

from uoisc_train.codec.config import CodecConfig, TEXT_POOLINGS
from uoisc_train.codec.decoder import SkipFusionDecoder
from uoisc_train.codec.film import FiLM
from uoisc_train.codec.losses import (PatchDiscriminator, discriminator_loss,
                                      generator_adversarial_loss, mse_loss, phase_one_loss,
                                      phase_two_generator_loss, relevance_loss)
from uoisc_train.codec.model import UOISC, FeatureBackbone, build_backbone
from uoisc_train.codec.projections import FeatureProjection, LayerProjections
from uoisc_train.codec.registry import get_codec_config, list_codec_configs
from uoisc_train.codec.vq import QuantizerOutput, SegmentVectorQuantizer, corrupt_indices

__all__ = [
    "CodecConfig", "TEXT_POOLINGS", "get_codec_config", "list_codec_configs", "UOISC", "FeatureBackbone", "build_backbone",
    "FeatureProjection", "LayerProjections", "FiLM", "SegmentVectorQuantizer",
    "QuantizerOutput", "corrupt_indices", "SkipFusionDecoder", "PatchDiscriminator",
    "mse_loss", "relevance_loss", "phase_one_loss", "phase_two_generator_loss",
    "generator_adversarial_loss", "discriminator_loss",
]
