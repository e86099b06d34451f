"""Model folders of trained caption decoders (``models/uoisc-tiny-vlf-caption``).

Same format as the tiny CLIP and judge folders (``uoisc_train.artefact``): fp16
safetensors with a checked sha256, ``config.json`` with the decoder's sizes, its
vocabulary and the feature it was trained on, ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uoisc_train.artefact import ArtefactError, load_artefact, save_artefact
from uoisc_train.clip.tiny import models_dir
from uoisc_train.vlf.caption import CaptionDecoder, CaptionDecoderConfig
from uoisc_train.vlf.caption_vocab import CaptionVocabulary

__all__ = ["CAPTION_DECODER_KIND", "TINY_CAPTION_NAME", "save_caption_decoder",
           "load_caption_decoder", "tiny_caption_dir"]

CAPTION_DECODER_KIND = "vlf_caption_decoder"
TINY_CAPTION_NAME = "uoisc-tiny-vlf-caption"


def tiny_caption_dir() -> Path:
    """Folder of the shipped tiny caption decoder."""
    return models_dir() / TINY_CAPTION_NAME


def save_caption_decoder(directory: str | Path, decoder: CaptionDecoder, feature: dict[str, Any],
                         provenance: dict[str, Any], metrics: dict[str, Any] | None = None) -> dict:
    """Write a caption decoder folder.

    Args:
        directory: target folder.
        decoder: the trained decoder.
        feature: what the decoder reads, e.g. ``{"backbone": ..., "pretrained": ...,
            "embedding": "image_embedding (unit norm)"}``; receivers check it.
        provenance: data, command, wall time, machine.
        metrics: metrics of the saved (fp16-rounded) weights.
    """
    config = {"decoder_config": decoder.config.to_dict(),
              "vocabulary": list(decoder.vocabulary.tokens), "feature": feature, **provenance}
    return save_artefact(directory, CAPTION_DECODER_KIND, decoder.state_dict(), config, metrics)


def load_caption_decoder(directory: str | Path | None = None) -> tuple[CaptionDecoder, dict[str, Any]]:
    """The decoder of a model folder (default: the shipped one), in eval mode, and its config.

    Raises:
        ArtefactError: hash mismatch, another kind, or a vocabulary that differs
            from the world's (ids would decode to the wrong words).
    """
    directory = Path(directory or tiny_caption_dir())
    state_dict, config = load_artefact(directory, CAPTION_DECODER_KIND)
    vocabulary = CaptionVocabulary()
    if list(vocabulary.tokens) != config["vocabulary"]:
        raise ArtefactError(f"{directory}: the decoder's vocabulary differs from this code's "
                            f"CaptionVocabulary; refusing to decode ids into other words")
    decoder = CaptionDecoder(CaptionDecoderConfig.from_dict(config["decoder_config"]), vocabulary)
    decoder.load_state_dict(state_dict, strict=True)
    return decoder.eval(), config
