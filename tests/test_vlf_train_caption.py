"""train_caption CLI end to end on a tiny slice: train, evaluate, export, reload; and its argument checks."""

import json

import pytest
import torch

from uoisc_train.artefact import ArtefactError
from uoisc_train.vlf.caption_artefact import load_caption_decoder
from uoisc_train.vlf.train_caption import main

TINY_RUN = ["--train-scenes", "40", "--epochs", "1", "--batch-size", "16", "--eval-scenes", "2",
            "--vq-codebook-size", "8", "--width", "16", "--layers", "1", "--heads", "2",
            "--prefix-length", "2", "--beam-size", "2"]


def test_tiny_training_run_exports_a_decoder_that_reloads_and_matches_the_metrics(tmp_path):
    """One epoch on 40 scenes writes params, checkpoint and metrics; the exported folder reloads
    (hash checked) and greedy decoding of the reloaded model is deterministic."""
    metrics = main(["--run-dir", str(tmp_path / "run"), "--export", str(tmp_path / "model"), *TINY_RUN])
    assert (tmp_path / "run" / "last.pt").is_file()
    recorded = json.loads((tmp_path / "run" / "params.json").read_text())
    assert recorded["args"]["train_scenes"] == 40
    expected_keys = {f"{split}/{feature}/{decoding}" for split in ("test_seen", "test_zeroshot")
                     for feature in ("clean", "quantised") for decoding in ("greedy", "beam2")}
    expected_keys |= {f"{split}/other_scene/greedy" for split in ("test_seen", "test_zeroshot")}
    assert set(metrics["results"]) == expected_keys
    assert metrics["quantised_feature"]["bits"] == 32 * 3
    decoder, config = load_caption_decoder(tmp_path / "model")
    assert config["decoder_config"]["width"] == 16
    features = torch.randn(2, decoder.config.embed_dim)
    assert decoder.caption(features) == decoder.caption(features)


def test_tampered_weights_are_refused(tmp_path):
    """A model folder whose weights changed after export fails the hash check."""
    main(["--run-dir", str(tmp_path / "run"), "--export", str(tmp_path / "model"), *TINY_RUN])
    weights = tmp_path / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ArtefactError, match="sha256"):
        load_caption_decoder(tmp_path / "model")


@pytest.mark.parametrize("bad", [["--epochs", "0"], ["--train-scenes", "4"], ["--noise-std", "-1"]])
def test_bad_arguments_exit_with_a_usage_error(tmp_path, bad):
    """Impossible values stop the CLI with argparse's exit status 2 before any training."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--run-dir", str(tmp_path / "run"), *TINY_RUN, *bad])
    assert exit_info.value.code == 2
    assert not (tmp_path / "run").exists()
