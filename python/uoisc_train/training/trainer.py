"""The two-phase training loop of UO-ISC (paper Section III).

Phase I minimises eq. 13 (``L_VQ + lambda_1 L_MSE + lambda_2 L_R``). Phase II
adds a PatchGAN: every step first updates the codec with eq. 14 (the
discriminator frozen), then the discriminator with eq. 15 on the detached
reconstructions. Dead codewords are restarted every ``restart_every`` steps
after the codec's update. Noise-aware training is the codec's own
``index_error_rate`` (set in the codec config).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch

from uoisc_train.codec import (UOISC, CodecConfig, PatchDiscriminator, discriminator_loss, phase_one_loss,
                               phase_two_generator_loss)
from uoisc_train.training.checkpoint import (backbone_fingerprint, codec_state,
                                             load_codec_state, stores_backbone)
from uoisc_train.training.config import TrainSettings
from uoisc_train.training.data import SceneQuestionBatches

__all__ = ["Trainer"]

_log = logging.getLogger(__name__)


class Trainer:
    """Optimisers, step functions and checkpoint state of one codec training.

    Args:
        model: the codec (``training.build_codec``), already on ``device``.
        settings: schedule and optimiser settings.
        batches: the training data.
        judge: VQA judge for eq. 11, frozen; ``None`` when ``lambda_relevance = 0``.
        device: ``"cpu"`` or ``"cuda"``.
    """

    def __init__(self, model: UOISC, settings: TrainSettings, batches: SceneQuestionBatches,
                 judge: Any = None, device: str = "cpu"):
        if model.config.lambda_relevance > 0 and judge is None:
            raise ValueError(f"lambda_relevance={model.config.lambda_relevance} needs a judge")
        self.model, self.settings, self.batches = model, settings, batches
        self.judge, self.device = judge, torch.device(device)
        self.discriminator = PatchDiscriminator().to(self.device)
        self.optimizer = torch.optim.Adam(model.trainable_parameters(), lr=settings.lr)
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=settings.discriminator_lr, betas=(0.5, 0.999))
        self.step = 0
        self._stores_backbone = stores_backbone(model.config, settings.train_backbone)

    @property
    def phase(self) -> int:
        """1 during the first ``phase1_steps`` steps, then 2."""
        return 1 if self.step < self.settings.phase1_steps else 2

    def _batch(self) -> tuple[torch.Tensor, list[str], torch.Tensor]:
        images, questions, token_ids = self.batches.sample(self.settings.batch_size)
        return images.to(self.device), questions, token_ids.to(self.device)

    def train_step(self) -> dict[str, float]:
        """One optimiser step of the current phase; returns the logged figures."""
        self.model.train()
        images, questions, token_ids = self._batch()
        phase = self.phase
        if phase == 1:
            outputs = self.model(images, token_ids)
            terms = phase_one_loss(outputs, images, self.model.config, self.judge, questions)
        else:
            self.discriminator.requires_grad_(False)
            outputs = self.model(images, token_ids)
            terms = phase_two_generator_loss(outputs, images, self.model.config,
                                             self.discriminator, self.judge, questions)
            self.discriminator.requires_grad_(True)
        self.optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        self.optimizer.step()
        if phase == 2:
            terms["discriminator"] = self._discriminator_step(images, outputs["x_hat"])
        restarted = 0
        if self.settings.restart_every and (self.step + 1) % self.settings.restart_every == 0:
            restarted = self.model.restart_dead_codes(outputs["aligned"].detach())
        self.step += 1
        record = {"step": self.step, "phase": phase, "restarted_codes": restarted}
        record.update({name: float(value.detach()) for name, value in terms.items()})
        for name in ("perplexity", "usage", "index_errors"):
            record[name] = float(outputs[name].detach())
        return record

    def _discriminator_step(self, images: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
        loss = discriminator_loss(self.discriminator, images, x_hat)
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.discriminator_optimizer.step()
        return loss

    @torch.no_grad()
    def batch_loss(self, images: torch.Tensor, questions: list[str], token_ids: torch.Tensor) -> float:
        """Phase I loss of a fixed batch in eval mode (no noise, no update)."""
        self.model.eval()
        outputs = self.model(images.to(self.device), token_ids.to(self.device))
        return float(phase_one_loss(outputs, images.to(self.device), self.model.config,
                                    self.judge, questions)["loss"])

    # ---- checkpoints -----------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything a resumed run needs (trainable parts only, see ``checkpoint``)."""
        return {
            "codec_config": self.model.config.to_dict(),
            "settings": self.settings.to_dict(),
            "step": self.step,
            "stores_backbone": self._stores_backbone,
            "codec_state": codec_state(self.model, self._stores_backbone),
            "backbone_fingerprint": backbone_fingerprint(self.model),
            "discriminator": self.discriminator.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "discriminator_optimizer": self.discriminator_optimizer.state_dict(),
            "data_generator": self.batches.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "saved_at": time.time(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state` (same codec config and settings required)."""
        # Compared as configs, so a checkpoint written before a field with a default
        # existed (e.g. erasure_token) still resumes.
        if CodecConfig.from_dict(state["codec_config"]) != self.model.config:
            raise ValueError("checkpoint codec config differs from this run's")
        load_codec_state(self.model, state["codec_state"], state["backbone_fingerprint"],
                         state["stores_backbone"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])
        self.batches.generator.set_state(state["data_generator"])
        torch.set_rng_state(state["torch_rng"])
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.step = int(state["step"])
        _log.info("resumed at step %d (phase %d)", self.step, self.phase)
