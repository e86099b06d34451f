"""Training of the VLF-MSC caption decoder on the tiny CLIP's embeddings of generated scenes.

Example (the shipped model, see ``models/uoisc-tiny-vlf-caption/MODEL_CARD.md``)::

    python -m uoisc_train.vlf.train_caption --run-dir runs/vlf-caption \\
        --export models/uoisc-tiny-vlf-caption

Scenes of the ``train`` split are generated once, embedded with the frozen tiny
CLIP (``ClipBackbone.image_embedding``) and paired with their captions; the
decoder learns with teacher forcing. Each training feature gets Gaussian noise of
a per-sample std drawn uniformly in ``[0, noise_std]``, so one decoder reads clean
and quantised features alike. Evaluation: caption exact match and per-attribute
accuracy (``caption_metrics``) on ``test_seen`` and ``test_zeroshot`` scenes of
another seed stream, greedy and beam search, from the clean feature and from the
feature after a VQ transmitter (k-means codebooks fitted on the training features),
against the same decoder fed another scene's feature (its language prior alone).
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import torch
from tqdm import tqdm

from uoisc_train.clip import load_tiny_clip, tiny_clip_dir
from uoisc_train.clip.evaluate import generate_scenes
from uoisc_train.runs import (add_model_run_arguments, add_run_dir_argument, fp16_rounded_copy,
                              prepare_run_dir, provenance, record_metrics, require_positive,
                              resume_epoch_training, run_cli, save_checkpoint, seed_everything,
                              warmup_cosine_lr)
from uoisc_train.vlf.caption import CaptionDecoder, CaptionDecoderConfig
from uoisc_train.vlf.caption_artefact import save_caption_decoder
from uoisc_train.vlf.caption_metrics import caption_metrics
from uoisc_train.vlf.config import VlfConfig
from uoisc_train.vlf.scene_features import embed_scenes
from uoisc_train.vlf.transmitter import VlfTransmitter
from uoisc_train.world import GENERATOR_VERSION

__all__ = ["build_parser", "train", "evaluate_decoder", "main"]

_log = logging.getLogger("uoisc_train.vlf.train_caption")

#: Dataset seed of the evaluation scenes (disjoint from the training seed stream).
EVAL_SEED = 999999
EVAL_SPLITS = ("test_seen", "test_zeroshot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m uoisc_train.vlf.train_caption", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_dir_argument(parser)
    data = parser.add_argument_group("data")
    data.add_argument("--train-scenes", type=int, default=4000, help="train-split scenes")
    data.add_argument("--data-seed", type=int, default=0, help="dataset seed of the training scenes")
    data.add_argument("--noise-std", type=float, default=0.03,
                      help="max per-dimension std of the Gaussian noise added to training features")
    data.add_argument("--clip", default=None, help="tiny CLIP model folder (default: the shipped one)")
    model = parser.add_argument_group("model")
    model.add_argument("--prefix-length", type=int, default=8)
    model.add_argument("--width", type=int, default=128)
    model.add_argument("--layers", type=int, default=3)
    model.add_argument("--heads", type=int, default=4)
    model.add_argument("--dropout", type=float, default=0.1)
    optim = parser.add_argument_group("optimisation")
    optim.add_argument("-e", "--epochs", type=int, default=30)
    optim.add_argument("-b", "--batch-size", type=int, default=64)
    optim.add_argument("--lr", type=float, default=1e-3)
    optim.add_argument("--weight-decay", type=float, default=0.01)
    optim.add_argument("--warmup-steps", type=int, default=100)
    optim.add_argument("--seed", type=int, default=0, help="seed of init, batch order and noise")
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--eval-scenes", type=int, default=200, help="scenes per evaluation split")
    evaluation.add_argument("--beam-size", type=int, default=3, help="beam width compared with greedy")
    evaluation.add_argument("--vq-segment-length", type=int, default=4,
                            help="segment length of the VQ transmitter of the quantised evaluation")
    evaluation.add_argument("--vq-codebook-size", type=int, default=256)
    run = parser.add_argument_group("run")
    add_model_run_arguments(run)
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    require_positive(parser, args, ("train_scenes", "epochs", "batch_size", "eval_scenes", "threads", "beam_size",
                 "prefix_length", "width", "layers", "heads"))
    if args.train_scenes < args.vq_codebook_size:
        parser.error(f"--train-scenes {args.train_scenes} cannot fit {args.vq_codebook_size} codewords")
    if args.noise_std < 0:
        parser.error(f"--noise-std must be >= 0, got {args.noise_std}")


def _captions_and_features(backbone, split: str, n: int, seed: int) -> tuple[list[str], torch.Tensor]:
    scenes = generate_scenes(split, n, seed)
    return [s.caption for s in scenes], embed_scenes(backbone, scenes)


def evaluate_decoder(decoder: CaptionDecoder, backbone, transmitter: VlfTransmitter | None,
                     n_scenes: int, beam_size: int) -> dict[str, Any]:
    """Caption metrics per split, feature and decoding (greedy / beam k).

    Features: ``clean`` (the embedding), ``quantised`` (through ``transmitter``, if
    given) and ``other_scene`` (another scene's clean feature, greedy only: the
    chance level of this decoder on this data).
    """
    results: dict[str, Any] = {}
    for split in EVAL_SPLITS:
        references, features = _captions_and_features(backbone, split, n_scenes, EVAL_SEED)
        variants = {"clean": features}
        if transmitter is not None:
            with torch.no_grad():
                variants["quantised"] = transmitter.dequantize(transmitter.quantize_feature(features))
        # No-information reference: each scene scored against the caption of another
        # scene's feature, i.e. what the decoder's language prior alone achieves.
        variants["other_scene"] = features.roll(1, dims=0)
        for feature_name, feature in variants.items():
            beams = [1] if feature_name == "other_scene" else sorted({1, beam_size})
            for beam in beams:
                decoding = "greedy" if beam == 1 else f"beam{beam}"
                metrics = caption_metrics(references, decoder.caption(feature, beam_size=beam))
                results[f"{split}/{feature_name}/{decoding}"] = metrics
                _log.info("%s %s %s: %s", split, feature_name, decoding,
                          {k: round(v, 3) for k, v in metrics.items()})
    return results


def train(args: argparse.Namespace, command: str) -> dict:
    """Run (or resume) a caption-decoder training; return the final metrics."""
    torch.set_num_threads(args.threads)
    run_dir = prepare_run_dir(args.run_dir, vars(args), args.resume)
    seed_everything(args.seed)
    backbone = load_tiny_clip(directory=args.clip)
    config = CaptionDecoderConfig(embed_dim=backbone.embed_dim, prefix_length=args.prefix_length,
                                  width=args.width, layers=args.layers, heads=args.heads,
                                  dropout=args.dropout)
    decoder = CaptionDecoder(config)
    optimizer = torch.optim.AdamW(decoder.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    start_epoch, elapsed = resume_epoch_training(run_dir, args.resume, decoder, optimizer)

    started = time.monotonic()
    captions, features = _captions_and_features(backbone, "train", args.train_scenes, args.data_seed)
    tokens = decoder.vocabulary.batch(captions, config.max_len)
    tokens = tokens[:, :int((tokens != decoder.vocabulary.pad_id).sum(1).max())]  # drop all-pad columns
    n = len(captions)
    steps_per_epoch = max(1, n // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    for epoch in range(start_epoch, args.epochs):
        decoder.train()
        generator = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        order = torch.randperm(n, generator=generator)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{args.epochs}", mininterval=10)
        total = 0.0
        for step_in_epoch in bar:
            step = epoch * steps_per_epoch + step_in_epoch
            for group in optimizer.param_groups:
                group["lr"] = warmup_cosine_lr(step, total_steps, args.lr, args.warmup_steps)
            batch = order[step_in_epoch * args.batch_size:(step_in_epoch + 1) * args.batch_size]
            noise_std = torch.rand(len(batch), 1, generator=generator) * args.noise_std
            noisy = features[batch] + noise_std * torch.randn(len(batch), features.shape[1],
                                                               generator=generator)
            loss = decoder(noisy, tokens[batch])["loss"]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        save_checkpoint(run_dir, {"model": decoder.state_dict(), "optimizer": optimizer.state_dict(),
                                  "epoch": epoch, "elapsed_s": elapsed + time.monotonic() - started})
        _log.info("epoch %d done, mean loss %.4f", epoch + 1, total / steps_per_epoch)
    train_wall_s = elapsed + time.monotonic() - started

    transmitter = VlfTransmitter(VlfConfig(embed_dim=backbone.embed_dim, quantizer="vq",
                                           segment_length=args.vq_segment_length,
                                           codebook_size=args.vq_codebook_size), backbone)
    quantiser_mse = transmitter.fit_quantizer(features, seed=args.seed)
    shipped = fp16_rounded_copy(decoder)
    metrics = {"eval_seed": EVAL_SEED, "eval_scenes": args.eval_scenes,
               "quantised_feature": {"quantizer": "vq", "segment_length": args.vq_segment_length,
                                     "codebook_size": args.vq_codebook_size,
                                     "bits": transmitter.config.bits_per_feature,
                                     "train_mse": quantiser_mse},
               "results": evaluate_decoder(shipped, backbone, transmitter, args.eval_scenes, args.beam_size)}
    record_metrics(run_dir, metrics, train_wall_s)
    if args.export:
        data = {"split": "train", "train_scenes": args.train_scenes, "data_seed": args.data_seed,
                "noise_std": args.noise_std, "generator_version": GENERATOR_VERSION}
        feature = {"backbone": backbone.model_name, "clip_folder": str(args.clip or tiny_clip_dir().name),
                   "embedding": "ClipBackbone.image_embedding (unit norm)", "embed_dim": backbone.embed_dim}
        save_caption_decoder(args.export, shipped, feature,
                             provenance(data, command, args, train_wall_s), metrics)
    return metrics


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the final metrics (for tests)."""
    return run_cli(build_parser(), _check_args, train, argv)


if __name__ == "__main__":
    main()
