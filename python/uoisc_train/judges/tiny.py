"""Saving and loading the trained tiny VQA judge shipped in ``models/uoisc-tiny-judge``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uoisc_train.artefact import ArtefactError, load_artefact, save_artefact
from uoisc_train.clip.tiny import models_dir
from uoisc_train.judges.tiny_vqa import TinyJudgeConfig, TinyVqaJudge
from uoisc_train.world import ANSWERS

__all__ = ["TINY_JUDGE_KIND", "TINY_JUDGE_NAME", "tiny_judge_dir", "save_judge_artefact",
           "load_tiny_judge"]

TINY_JUDGE_KIND = "tiny_vqa_judge"
TINY_JUDGE_NAME = "uoisc-tiny-judge"


def tiny_judge_dir() -> Path:
    """Folder of the shipped tiny judge."""
    return models_dir() / TINY_JUDGE_NAME


def save_judge_artefact(directory: str | Path, judge: TinyVqaJudge, provenance: dict[str, Any],
                        metrics: dict[str, Any] | None = None) -> dict:
    """Write a judge model folder (fp16 safetensors + config.json + metrics.json)."""
    config = {"model_name": TINY_JUDGE_NAME, "judge_config": judge.config.to_dict(), **provenance}
    return save_artefact(directory, TINY_JUDGE_KIND, judge.state_dict(), config, metrics)


def load_tiny_judge(directory: str | Path | None = None) -> TinyVqaJudge:
    """The trained tiny judge, hash-checked, frozen (no parameter requires grad), in eval mode.

    Raises:
        ArtefactError: hash mismatch, or an answer vocabulary that differs from
            the world's :data:`~uoisc_train.world.ANSWERS` (its class indices
            would silently mean other answers).
    """
    directory = Path(directory or tiny_judge_dir())
    state_dict, config = load_artefact(directory, TINY_JUDGE_KIND)
    judge_config = TinyJudgeConfig.from_dict(config["judge_config"])
    if judge_config.answers != tuple(ANSWERS):
        raise ArtefactError(f"{directory}: the judge's answer vocabulary {judge_config.answers} "
                            f"differs from the world's {tuple(ANSWERS)}; retrain it")
    judge = TinyVqaJudge(judge_config)
    judge.load_state_dict(state_dict, strict=True)
    return judge.requires_grad_(False).eval()
