"""Saving and loading the trained tiny CLIP shipped in ``models/uoisc-tiny-clip``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from uoisc_train.artefact import ArtefactError, load_artefact, save_artefact
from uoisc_train.clip.registry import TINY_CLIP_NAME, model_config, register_model_configs
from uoisc_train.compat import import_open_clip

__all__ = ["OPEN_CLIP_KIND", "models_dir", "tiny_clip_dir", "save_clip_artefact",
           "load_clip_artefact", "load_tiny_clip"]

#: ``kind`` recorded in config.json of open_clip model folders.
OPEN_CLIP_KIND = "open_clip"


def models_dir() -> Path:
    """The project's ``models/`` folder (``$UOISC_MODELS_DIR`` overrides it)."""
    override = os.environ.get("UOISC_MODELS_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "models"


def tiny_clip_dir() -> Path:
    """Folder of the shipped tiny CLIP."""
    return models_dir() / TINY_CLIP_NAME


def save_clip_artefact(directory: str | Path, model: nn.Module, model_name: str,
                       provenance: dict[str, Any], metrics: dict[str, Any] | None = None) -> dict:
    """Write an open_clip model folder (fp16 safetensors + config.json + metrics.json).

    Args:
        directory: target folder.
        model: the trained open_clip model.
        model_name: its registered config name; the config itself is copied
            into config.json so a later edit of the JSON is detected on load.
        provenance: data seed, generator version, command, wall time, machine.
        metrics: metrics of the *saved* (fp16-rounded) weights.
    """
    config = {"model_name": model_name, "open_clip_config": model_config(model_name), **provenance}
    return save_artefact(directory, OPEN_CLIP_KIND, model.state_dict(), config, metrics)


def load_clip_artefact(directory: str | Path, expected_model_name: str | None = None) -> nn.Module:
    """Build the open_clip model of a model folder and load its hash-checked weights.

    Raises:
        ArtefactError: hash mismatch, or the folder's config disagrees with the
            registered open_clip config of the same name.
    """
    state_dict, config = load_artefact(directory, OPEN_CLIP_KIND)
    name = config["model_name"]
    if expected_model_name is not None and name != expected_model_name:
        raise ArtefactError(f"{directory} holds {name!r}, not {expected_model_name!r}")
    if config["open_clip_config"] != model_config(name):
        raise ArtefactError(f"{directory}: the model was trained with another {name} config than "
                            f"the registered one; refusing to load it into a different architecture")
    open_clip = import_open_clip()
    register_model_configs()
    model = open_clip.create_model(name, pretrained=None)
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def load_tiny_clip(layers: Sequence[int] | None = None, directory: str | Path | None = None):
    """The shipped tiny CLIP as a frozen :class:`~uoisc_train.clip.ClipBackbone`.

    Args:
        layers: 1-based vision layers to expose (``None``: all).
        directory: model folder, default :func:`tiny_clip_dir`.
    """
    from uoisc_train.clip.backbone import ClipBackbone
    return ClipBackbone(TINY_CLIP_NAME, pretrained=str(directory or tiny_clip_dir()), layers=layers)
