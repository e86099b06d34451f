"""Registers the project's open_clip model configs (``model_configs/*.json``).

open_clip's registry is its folder of JSON configs (name = file stem); adding
our folder with :func:`open_clip.add_model_config` makes
``open_clip.create_model('uoisc-tiny-clip')`` and
``open_clip.get_tokenizer('uoisc-tiny-clip')`` work like any built-in name.
There is deliberately no Python dict of configs next to the JSON files.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from uoisc_train.compat import import_open_clip

__all__ = ["MODEL_CONFIG_DIR", "TINY_CLIP_NAME", "register_model_configs", "model_config"]

#: Folder holding the project's open_clip configs.
MODEL_CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"
#: The tiny CLIP of the offline world (64x64 images, ViT patch 8).
TINY_CLIP_NAME = "uoisc-tiny-clip"

_lock = threading.Lock()
_registered = False


def register_model_configs() -> None:
    """Add :data:`MODEL_CONFIG_DIR` to open_clip's registry (idempotent)."""
    global _registered
    with _lock:
        if _registered:
            return
        open_clip = import_open_clip()
        open_clip.add_model_config(MODEL_CONFIG_DIR)
        _registered = True


def model_config(name: str = TINY_CLIP_NAME) -> dict:
    """The JSON config of one of the project's models, as stored on disk.

    Raises:
        ValueError: ``name`` is not one of the project's configs.
    """
    path = MODEL_CONFIG_DIR / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in MODEL_CONFIG_DIR.glob("*.json"))
        raise ValueError(f"unknown project model config {name!r}; known: {known}")
    return json.loads(path.read_text())
