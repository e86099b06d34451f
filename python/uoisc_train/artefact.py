"""Trained-model folders with a checked hash (used for tiny CLIP and the tiny judge).

A model folder holds ``model.safetensors`` (weights, floats stored as fp16 to
stay a few MB), ``config.json`` (what to build, how it was trained and the
sha256 of the weights file) and ``metrics.json`` (what the tests recompute).
Loading recomputes the hash and refuses a mismatch: a silently different
checkpoint is the worst kind of bug (open_clip #771).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from uoisc_runtime import sha256_file

__all__ = [
    "ARTEFACT_FORMAT_VERSION", "WEIGHTS_FILE", "CONFIG_FILE", "METRICS_FILE",
    "ArtefactError", "save_artefact", "load_artefact", "read_metrics",
]

_log = logging.getLogger(__name__)

ARTEFACT_FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"


class ArtefactError(RuntimeError):
    """A model folder is missing, malformed, of the wrong kind or fails its hash."""



def save_artefact(directory: str | Path, kind: str, state_dict: dict[str, torch.Tensor],
                  config: dict[str, Any], metrics: dict[str, Any] | None = None,
                  storage_dtype: torch.dtype = torch.float16) -> dict[str, Any]:
    """Write a model folder and return the config that was written.

    Args:
        directory: target folder (created if needed; files are overwritten).
        kind: what the weights are, e.g. ``"open_clip"`` or ``"tiny_vqa_judge"``;
            checked again on load.
        state_dict: the model's weights; floating tensors are cast to
            ``storage_dtype``, the others kept.
        config: everything needed to rebuild the model and its provenance.
        metrics: written to ``metrics.json`` when given.
        storage_dtype: dtype of floating tensors on disk.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stored = {name: (t.detach().to(storage_dtype) if t.is_floating_point() else t.detach())
              .contiguous().cpu() for name, t in state_dict.items()}
    weights_path = directory / WEIGHTS_FILE
    save_file(stored, str(weights_path))
    full_config = {
        "format_version": ARTEFACT_FORMAT_VERSION,
        "kind": kind,
        **config,
        "weights": {"file": WEIGHTS_FILE, "sha256": sha256_file(weights_path),
                    "storage_dtype": str(storage_dtype).removeprefix("torch.")},
    }
    (directory / CONFIG_FILE).write_text(json.dumps(full_config, indent=2) + "\n")
    if metrics is not None:
        (directory / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    _log.info("saved %s artefact to %s (%d tensors)", kind, directory, len(stored))
    return full_config


def load_artefact(directory: str | Path, kind: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a model folder after checking its format, kind and weights hash.

    Returns:
        ``(state_dict, config)``, floating tensors converted to float32.

    Raises:
        ArtefactError: missing files, another format version or kind, or a
            weights file whose sha256 differs from the one in ``config.json``.
    """
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise ArtefactError(f"no {CONFIG_FILE} in model folder {directory}")
    config = json.loads(config_path.read_text())
    if config.get("format_version") != ARTEFACT_FORMAT_VERSION:
        raise ArtefactError(f"{config_path}: format_version {config.get('format_version')!r}, "
                            f"this code reads {ARTEFACT_FORMAT_VERSION}")
    if config.get("kind") != kind:
        raise ArtefactError(f"{config_path}: kind {config.get('kind')!r}, expected {kind!r}")
    weights_path = directory / config["weights"]["file"]
    if not weights_path.is_file():
        raise ArtefactError(f"weights file {weights_path} is missing")
    actual = sha256_file(weights_path)
    expected = config["weights"]["sha256"]
    if actual != expected:
        raise ArtefactError(f"sha256 mismatch for {weights_path}: file has {actual}, "
                            f"{CONFIG_FILE} records {expected}; refusing to load different weights")
    state_dict = {name: (t.float() if t.is_floating_point() else t)
                  for name, t in load_file(str(weights_path)).items()}
    return state_dict, config


def read_metrics(directory: str | Path) -> dict[str, Any]:
    """The recorded ``metrics.json`` of a model folder."""
    path = Path(directory) / METRICS_FILE
    if not path.is_file():
        raise ArtefactError(f"no {METRICS_FILE} in model folder {directory}")
    return json.loads(path.read_text())
