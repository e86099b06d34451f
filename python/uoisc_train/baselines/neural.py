"""Neural baselines of the paper as ``--set`` overrides of the UO-ISC training run.

Both keep every code path of UO-ISC (same codec class, trainer, export):

- ``no-text-alignment`` (a): no text tower, no FiLM (``text_alignment=false``) and
  no user-intent relevance loss (``lambda_relevance=0``).
- ``no-pretrained-vlm`` (b): the same CLIP architecture with random initial
  parameters (``pretrained=null``), **trained end to end** with the codec
  (``train_backbone=true``). The paper says the baseline "retains the CLIP
  architecture but is trained with randomly initialized parameters": a frozen
  random CLIP would not be "trained", so we train it.
"""

from __future__ import annotations

__all__ = ["BASELINES", "baseline_overrides"]

#: Baseline name -> ``KEY=VALUE`` overrides applied before the user's ``--set``.
BASELINES: dict[str, tuple[str, ...]] = {
    "uoisc": (),
    "no-text-alignment": ("text_alignment=false", "lambda_relevance=0"),
    "no-pretrained-vlm": ("pretrained=null", "train_backbone=true"),
}


def baseline_overrides(name: str) -> list[str]:
    """The overrides of baseline ``name`` (``"uoisc"`` = none).

    Raises:
        ValueError: unknown name, listing the known ones.
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {sorted(BASELINES)}")
    return list(BASELINES[name])
