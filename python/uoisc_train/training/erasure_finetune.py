"""Erasure-aware decoder fine-tuning: teach a trained codec's decoder an "erased" token.

Example::

    python -m uoisc_train.training.erasure_finetune -c runs/uoisc-tiny-uoisc/last.pt \\
        -r runs/uoisc-tiny-uoisc-erasure --steps 3000
    python -m uoisc_train.export -c runs/uoisc-tiny-uoisc-erasure/last.pt -o runs/bundles/uoisc-tiny-uoisc-erasure \\
        --model-id uoisc-tiny-uoisc

The receiver knows which indices are erased (failed codeword CRCs,
``uoisc_runtime.packing.erased_indices``). Instead of decoding the wrong hard
bits of those codewords, an erasure-aware decoder reads index ``K`` there, a
learned row per segment codebook (``CodecConfig.erasure_token``). This module
adds that row to a trained codec (initialised to each codebook's mean) and
fine-tunes **only the decoder and the new rows** on erasure masks shaped like
the PHY's (whole codewords, ``codec.erasures``) plus rare residual index errors.
The encoder, its projections, FiLM and the codebooks stay frozen and unchanged,
so the encoder graph, the indices and the bits on air are those of the source.

Loss: eq. 13 without the VQ term (nothing upstream of the decoder learns):
``lambda_1 MSE + lambda_2 L_R`` with the source codec's weights; no Phase II.
The run folder gets ``params.json``, ``log.jsonl`` and ``last.pt``; the
checkpoint has the layout of ``training.checkpoint`` (``load_codec``, the
exporter and ``uoisc_train.evaluate`` read it) plus the optimiser state for
``--resume``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from uoisc_train.codec import UOISC, corrupt_indices, phase_one_loss
from uoisc_train.codec.erasures import (DEFAULT_CW_DATA_BYTES, codeword_index_table,
                                        sample_codeword_erasures)
from uoisc_train.runs import (load_checkpoint, prepare_run_dir, require_positive, run_cli,
                              seed_everything)
from uoisc_train.training.checkpoint import (backbone_fingerprint, build_codec, codec_state,
                                            load_codec, load_codec_state)
from uoisc_train.training.config import require_ints
from uoisc_train.training.data import SceneQuestionBatches
from uoisc_train.training.loop import run_steps

__all__ = ["ErasureFinetuneSettings", "add_erasure_token", "decoder_input", "ErasureFinetuner",
           "run_finetune", "main"]

_log = logging.getLogger("uoisc_train.erasure_finetune")


@dataclass(frozen=True)
class ErasureFinetuneSettings:
    """Schedule, data and erasure model of one fine-tuning run.

    Args:
        steps: optimiser steps.
        batch_size: images per step (one question each).
        lr: peak Adam learning rate (cosine decay to 0 over ``steps``).
        max_erased_fraction: an image's share of failed codewords is uniform
            in ``[0, max_erased_fraction]``...
        clean_probability: ...except that an image is error-free with this
            probability (keeps the clean-channel quality).
        residual_error_rate: share of the *non-erased* indices replaced by
            another random index (errors the CRC did not catch).
        cw_data_bytes: frame bytes per LDPC codeword (108 for ``n1800_k902``).
        train_scenes: ``train`` scenes generated into memory.
        data_seed: their dataset seed.
        seed: seed of batch order and erasure masks.
        judge: ``"tiny"``, ``"random-tiny"``, ``"none"`` or a judge folder
            (needed when the codec's ``lambda_relevance > 0``).
        log_every: steps between ``log.jsonl`` records.
        checkpoint_every: steps between checkpoints (one is always written at the end).
        max_seconds: wall-clock budget (0 = none); the run stops resumably.
    """

    steps: int = 3000
    batch_size: int = 16
    lr: float = 1e-3
    max_erased_fraction: float = 0.9
    clean_probability: float = 0.2
    residual_error_rate: float = 0.005
    cw_data_bytes: int = DEFAULT_CW_DATA_BYTES
    train_scenes: int = 4000
    data_seed: int = 0
    seed: int = 0
    judge: str = "tiny"
    log_every: int = 20
    checkpoint_every: int = 200
    max_seconds: int = 0

    def __post_init__(self) -> None:
        require_ints(self, ("steps", "batch_size", "cw_data_bytes", "train_scenes", "log_every",
                            "checkpoint_every"), minimum=1)
        require_ints(self, ("data_seed", "seed", "max_seconds"), minimum=0)
        if not self.lr > 0:
            raise ValueError(f"lr={self.lr!r} must be > 0")
        for name in ("max_erased_fraction", "clean_probability", "residual_error_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def add_erasure_token(model: UOISC) -> UOISC:
    """A copy of a trained codec with the erasure row, sharing its (frozen) backbone.

    Every trained tensor is copied; each segment's erasure row starts at the
    mean of its codebook (what a decoder sees "on average", a neutral guess).

    Raises:
        ValueError: the codec already has the erasure token.
    """
    if model.config.erasure_token:
        raise ValueError(f"{model.config.backbone} codec already has the erasure token")
    extended = build_codec(model.config.replace(erasure_token=True), backbone=model.backbone)
    missing, unexpected = extended.load_state_dict(model.state_dict(), strict=False)
    if missing != ["quantizer.erasure_codewords"] or unexpected:
        raise ValueError(f"unexpected state differences: missing {missing}, unexpected {unexpected}")
    extended.quantizer.reset_erasure_codewords()
    return extended


def decoder_input(indices: torch.Tensor, erased: torch.Tensor, erasure_index: int,
                  residual_error_rate: float = 0.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """What an erasure-aware decoder reads: erased indices become ``erasure_index`` (= K),
    the others are kept or, at ``residual_error_rate``, replaced by another codeword.

    Args:
        indices: int64 ``N x L x T x G`` sent indices in ``[0, K)``.
        erased: bool, ``N x (L*T*G)`` in packed (C) order or the shape of ``indices``.
        erasure_index: ``K``.
        residual_error_rate: see :class:`ErasureFinetuneSettings`.
        generator: torch generator for the residual errors.
    """
    noisy = corrupt_indices(indices, residual_error_rate, erasure_index, generator=generator)
    return torch.where(erased.reshape(indices.shape), torch.full_like(noisy, erasure_index), noisy)


class ErasureFinetuner:
    """Optimiser and step function of the decoder-only fine-tuning.

    Args:
        model: codec with the erasure token (:func:`add_erasure_token`).
        settings: the run's settings.
        batches: training scenes and questions.
        judge: frozen VQA judge for eq. 11 (``None`` when ``lambda_relevance`` is 0).
    """

    def __init__(self, model: UOISC, settings: ErasureFinetuneSettings,
                 batches: SceneQuestionBatches, judge: Any = None):
        if model.config.erasure_index is None:
            raise ValueError("the codec has no erasure token; use add_erasure_token(model) first")
        if model.config.lambda_relevance > 0 and judge is None:
            raise ValueError(f"lambda_relevance={model.config.lambda_relevance} needs a judge")
        self.model, self.settings, self.batches, self.judge = model, settings, batches, judge
        # Only the receiver learns: the indices on air must stay those of the source codec.
        model.requires_grad_(False)
        model.decoder.requires_grad_(True)
        model.quantizer.erasure_codewords.requires_grad_(True)
        model.eval()  # no dropout/batch-norm anywhere; eval keeps the VQ usage statistics still
        self.optimizer = torch.optim.Adam(model.trainable_parameters(), lr=settings.lr)
        self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, settings.steps)
        config = model.config
        self.table = codeword_index_table(config.n_indices, config.bits_per_index,
                                          settings.cw_data_bytes)
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.step = 0

    def train_step(self) -> dict[str, float]:
        """One optimiser step on a batch with fresh erasure masks; returns the logged figures."""
        images, questions, token_ids = self.batches.sample(self.settings.batch_size)
        indices = self.model.compress(images, token_ids)
        erased = sample_codeword_erasures(self.table, len(images), self.settings.max_erased_fraction,
                                          self.settings.clean_probability, self.generator)
        received = decoder_input(indices, erased, self.model.config.erasure_index,
                                 self.settings.residual_error_rate, self.generator)
        x_hat = self.model.decompress(received)
        terms = phase_one_loss({"x_hat": x_hat, "vq_loss": x_hat.new_zeros(())}, images,
                               self.model.config, self.judge, questions)
        self.optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        self.optimizer.step()
        self.schedule.step()
        self.step += 1
        record = {"step": self.step, "lr": self.schedule.get_last_lr()[0],
                  "erased_fraction": float(erased.float().mean())}
        record.update({name: float(value.detach()) for name, value in terms.items() if name != "vq"})
        return record

    def state(self, source: dict[str, Any]) -> dict[str, Any]:
        """A ``training.checkpoint``-compatible checkpoint plus what ``--resume`` needs."""
        return {
            "codec_config": self.model.config.to_dict(),
            "settings": self.settings.to_dict(),
            "source": source,
            "step": self.step,
            "stores_backbone": source["stores_backbone"],
            "codec_state": codec_state(self.model, source["stores_backbone"]),
            "backbone_fingerprint": backbone_fingerprint(self.model),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "data_generator": self.batches.generator.get_state(),
            "mask_generator": self.generator.get_state(),
            "saved_at": time.time(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state`."""
        load_codec_state(self.model, state["codec_state"], state["backbone_fingerprint"],
                         state["stores_backbone"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.batches.generator.set_state(state["data_generator"])
        self.generator.set_state(state["mask_generator"])
        self.step = int(state["step"])


def run_finetune(source_checkpoint: str | Path, run_dir: str | Path,
                 settings: ErasureFinetuneSettings, threads: int = 2, resume: bool = False,
                 params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fine-tune (or continue) a run; returns the last log record."""
    from uoisc_train.train import load_judge

    torch.set_num_threads(threads)
    seed_everything(settings.seed)
    record_params = {"source_checkpoint": str(source_checkpoint), "settings": settings.to_dict(),
                     "threads": threads, "resume": resume, **(params or {})}
    run_dir = prepare_run_dir(run_dir, record_params, resume)
    source_model, info = load_codec(source_checkpoint)
    raw = torch.load(Path(source_checkpoint), map_location="cpu", weights_only=False)
    source = {"checkpoint": str(source_checkpoint), "step": info["step"],
              "settings": info["settings"], "stores_backbone": raw["stores_backbone"]}
    model = add_erasure_token(source_model)
    judge = load_judge(settings.judge) if model.config.lambda_relevance > 0 else None
    batches = SceneQuestionBatches("train", settings.train_scenes, settings.data_seed,
                                   model.config.image_size, model.backbone.tokenize)
    finetuner = ErasureFinetuner(model, settings, batches, judge)
    if resume:
        state = load_checkpoint(run_dir)
        if state is None:
            raise ValueError(f"--resume but {run_dir} holds no checkpoint")
        finetuner.load_state(state)
    return run_steps(finetuner.train_step, lambda: finetuner.state(source), run_dir,
                     finetuner.step, settings.steps, settings.log_every,
                     settings.checkpoint_every, settings.max_seconds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m uoisc_train.training.erasure_finetune",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-c", "--checkpoint", required=True, help="trained codec (a run's last.pt)")
    parser.add_argument("-r", "--run-dir", required=True, help="run folder of the fine-tuning")
    defaults = ErasureFinetuneSettings()
    tuning = parser.add_argument_group("fine-tuning (ErasureFinetuneSettings)")
    for field in dataclasses.fields(ErasureFinetuneSettings):
        tuning.add_argument(f"--{field.name.replace('_', '-')}", type=type(getattr(defaults, field.name)),
                            default=getattr(defaults, field.name))
    run = parser.add_argument_group("run")
    run.add_argument("-t", "--threads", type=int, default=2, help="torch CPU threads")
    run.add_argument("--resume", action="store_true", help="continue from the run's last.pt")
    return parser


def _settings(args: argparse.Namespace) -> ErasureFinetuneSettings:
    return ErasureFinetuneSettings(**{field.name: getattr(args, field.name)
                                      for field in dataclasses.fields(ErasureFinetuneSettings)})


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    require_positive(parser, args, ["threads"])
    try:
        _settings(args)
    except ValueError as error:
        parser.error(str(error))


def _finetune(args: argparse.Namespace, command: str) -> int:
    try:
        record = run_finetune(args.checkpoint, args.run_dir, _settings(args), args.threads,
                              args.resume)
    except ValueError as error:  # bad run folder, resume mismatch, codec already erasure-aware
        _log.error("%s", error)
        return 2
    _log.info("finished at step %d: %s", record["step"], record)
    return 0


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    return run_cli(build_parser(), _check_args, _finetune, argv)


if __name__ == "__main__":
    sys.exit(main())
