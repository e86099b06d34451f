"""Model folders of the VLF-MSC image generator (fp16 safetensors + config.json, hash-checked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uoisc_train.artefact import ArtefactError, load_artefact, save_artefact
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion
from uoisc_train.vlf.diffusion_config import DiffusionConfig

__all__ = ["GENERATOR_KIND", "save_generator_artefact", "load_generator"]

GENERATOR_KIND = "vlf_diffusion_generator"


def save_generator_artefact(directory: str | Path, model: FeatureToImageDiffusion,
                            provenance: dict[str, Any], metrics: dict[str, Any] | None = None) -> dict:
    """Write a generator model folder.

    Args:
        directory: target folder.
        model: the trained generator.
        provenance: what the feature is (CLIP model folder, embed_dim), data, command, wall time.
        metrics: metrics of the saved (fp16-rounded) weights.
    """
    config = {"diffusion_config": model.config.to_dict(), **provenance}
    return save_artefact(directory, GENERATOR_KIND, model.state_dict(), config, metrics)


def load_generator(directory: str | Path) -> FeatureToImageDiffusion:
    """The generator of a model folder, hash-checked, frozen, in eval mode.

    Raises:
        ArtefactError: missing files, another kind, a hash mismatch or weights that do not
            fit the recorded config.
    """
    state_dict, config = load_artefact(directory, GENERATOR_KIND)
    model = FeatureToImageDiffusion(DiffusionConfig.from_dict(config["diffusion_config"]))
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise ArtefactError(f"{directory}: weights do not fit the recorded config: {error}") from error
    return model.requires_grad_(False).eval()
