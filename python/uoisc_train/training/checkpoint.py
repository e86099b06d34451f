"""What a codec checkpoint holds, and how to rebuild a trained codec from it.

A checkpoint stores the codec's *trainable* parts (projections, FiLM,
codebooks and their usage statistics, decoder). The frozen CLIP is not copied:
it is rebuilt from ``config.pretrained`` (its own hash-checked artefact) and
checked against the recorded :func:`backbone_fingerprint`, so a checkpoint
never silently runs on other CLIP weights. The backbone *is* stored when it
has no artefact to come from: when it is trained (baseline (b)) or random-init
(``pretrained=None``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from uoisc_train.codec import UOISC, CodecConfig

__all__ = ["BACKBONE_PREFIX", "build_codec", "stores_backbone", "codec_state",
           "backbone_fingerprint", "load_codec_state", "load_codec", "round_stored_backbone_fp16",
           "main"]

BACKBONE_PREFIX = "backbone."


def build_codec(config: CodecConfig, train_backbone: bool = False,
                backbone: nn.Module | None = None) -> UOISC:
    """The codec of ``config``; with ``train_backbone`` the CLIP towers get gradients too."""
    model = UOISC(config, backbone=backbone)
    if train_backbone:
        # ClipBackbone freezes itself; baseline (b) trains it end to end.
        model.backbone.requires_grad_(True)
    return model


def stores_backbone(config: CodecConfig, train_backbone: bool) -> bool:
    """True when the checkpoint must carry the backbone (no artefact to reload it from)."""
    return train_backbone or config.pretrained is None


def codec_state(model: UOISC, include_backbone: bool) -> dict[str, torch.Tensor]:
    """The codec's state dict, without the backbone unless ``include_backbone``."""
    return {key: value for key, value in model.state_dict().items()
            if include_backbone or not key.startswith(BACKBONE_PREFIX)}


def backbone_fingerprint(model: UOISC) -> str:
    """sha256 over the backbone's tensors (names, shapes, bytes), in name order."""
    digest = hashlib.sha256()
    for key, value in sorted(model.backbone.state_dict().items()):
        tensor = value.detach().to("cpu").contiguous()
        digest.update(key.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def load_codec_state(model: UOISC, state: dict[str, torch.Tensor], fingerprint: str,
                     include_backbone: bool) -> None:
    """Load a :func:`codec_state` into ``model`` and check the backbone fingerprint.

    Raises:
        ValueError: missing/unexpected keys, or a backbone other than the recorded one.
    """
    missing, unexpected = model.load_state_dict(state, strict=False)
    if not include_backbone:
        missing = [key for key in missing if not key.startswith(BACKBONE_PREFIX)]
    if missing or unexpected:
        raise ValueError(f"checkpoint does not fit the codec: missing {missing}, unexpected {unexpected}")
    actual = backbone_fingerprint(model)
    if actual != fingerprint:
        raise ValueError(f"backbone fingerprint {actual[:16]}... differs from the checkpoint's "
                         f"{fingerprint[:16]}...: the CLIP weights of config.pretrained="
                         f"{model.config.pretrained!r} are not those the codec was trained on")


def load_codec(path: str | Path, device: str = "cpu") -> tuple[UOISC, dict[str, Any]]:
    """A trained codec from a training checkpoint (``last.pt``), in eval mode.

    Returns:
        ``(model, info)`` with ``info`` = step, phase step counts, run settings.
    """
    checkpoint = torch.load(Path(path), map_location="cpu", weights_only=False)
    config = CodecConfig.from_dict(checkpoint["codec_config"])
    model = build_codec(config)
    load_codec_state(model, checkpoint["codec_state"], checkpoint["backbone_fingerprint"],
                     checkpoint["stores_backbone"])
    model.requires_grad_(False)
    info = {"step": checkpoint["step"], "settings": checkpoint["settings"]}
    return model.to(device).eval(), info


def round_stored_backbone_fp16(source: str | Path, target: str | Path) -> Path:
    """Copy a checkpoint whose *stored* backbone (trained or random-init) is rounded to fp16.

    A trained tiny CLIP exported in float32 doubles the encoder's size; the
    export stores exactly-fp16 weights as fp16, so rounding first halves it, at
    the precision the shipped tiny CLIP itself is kept in. The fingerprint is
    recomputed, and the checkpoint is marked, so evaluation and export run on
    exactly the rounded weights. Refuses a checkpoint that stores no backbone
    (its CLIP comes from a hash-checked artefact and must not change).
    """
    checkpoint = torch.load(Path(source), map_location="cpu", weights_only=False)
    if not checkpoint["stores_backbone"]:
        raise ValueError(f"{source}: the checkpoint stores no backbone (it is loaded from "
                         f"{checkpoint['codec_config'].get('pretrained')!r}); nothing to round")
    state = checkpoint["codec_state"]
    for key, value in state.items():
        if key.startswith(BACKBONE_PREFIX) and value.dtype == torch.float32:
            state[key] = value.half().float()
    model, _ = load_codec(source)
    model.load_state_dict(state)
    checkpoint["backbone_fingerprint"] = backbone_fingerprint(model)
    checkpoint["backbone_rounded_to_fp16"] = True
    torch.save(checkpoint, Path(target))
    return Path(target)


def main(argv: list[str] | None = None) -> int:
    """``python -m uoisc_train.training.checkpoint round-fp16 IN OUT``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m uoisc_train.training.checkpoint",
                                     description="Checkpoint tools.")
    tools = parser.add_subparsers(dest="tool", required=True)
    rounding = tools.add_parser("round-fp16", help=round_stored_backbone_fp16.__doc__.split("\n")[0])
    rounding.add_argument("source")
    rounding.add_argument("target")
    args = parser.parse_args(argv)
    print(round_stored_backbone_fp16(args.source, args.target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
