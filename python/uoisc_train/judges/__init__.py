"""VQA judges behind the user-intent relevance loss (eq. 11) and the answer match rate.

- :class:`TinyVqaJudge` / :func:`load_tiny_judge`: the offline world's small judge.
- :class:`NanoLlavaJudge`: nanoLLaVA (or any LLaVA-style model) through transformers, for users.
"""

from uoisc_train.judges.base import VqaJudge, cosine_relevance_loss
from uoisc_train.judges.tiny_vqa import TinyJudgeConfig, TinyVqaJudge
from uoisc_train.judges.tiny import load_tiny_judge, tiny_judge_dir

__all__ = ["VqaJudge", "cosine_relevance_loss", "TinyJudgeConfig", "TinyVqaJudge",
           "load_tiny_judge", "tiny_judge_dir", "NanoLlavaJudge"]


def __getattr__(name):
    # transformers is heavy to import: load the nanoLLaVA judge only when asked for.
    if name == "NanoLlavaJudge":
        from uoisc_train.judges.nanollava import NanoLlavaJudge
        return NanoLlavaJudge
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
