"""ONNX export of the VLF-MSC denoiser and the numpy DDIM sampler meant for the GNU Radio block."""

import json

import numpy as np
import pytest
import torch

from uoisc_runtime import sha256_file
from uoisc_train.vlf.diffusion import FeatureToImageDiffusion
from uoisc_train.vlf.diffusion_export import (DENOISER_FILE, DENOISER_META_FILE,
                                              check_denoiser_parity, export_denoiser)
from uoisc_train.vlf.diffusion_onnx_sampler import ddim_sample, ddim_timesteps, onnx_denoiser

from test_vlf_diffusion import TINY, one_thread, randomised  # noqa: F401 (one_thread: autouse fixture)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = randomised(FeatureToImageDiffusion(TINY), seed=5)
    out_dir = tmp_path_factory.mktemp("denoiser")
    return model, out_dir, export_denoiser(model, out_dir)


def test_one_denoiser_step_matches_torch(exported):
    """onnxruntime's eps equals torch's on fresh random inputs (another batch size than the
    export's, both branches of uncond) within 1e-4."""
    model, out_dir, _ = exported
    assert check_denoiser_parity(model, out_dir / DENOISER_FILE, batch=5, seed=11) < 1e-4


def test_metadata_carries_schedule_config_and_hash(exported):
    """denoiser.json holds the config, the torch alpha_bar table and the graph's sha256."""
    model, out_dir, meta = exported
    assert json.loads((out_dir / DENOISER_META_FILE).read_text()) == meta
    assert meta["diffusion_config"] == TINY.to_dict()
    assert meta["sha256"] == sha256_file(out_dir / DENOISER_FILE)
    np.testing.assert_array_equal(meta["alpha_bar"], model.schedule.alpha_bar.numpy())


def test_numpy_timesteps_equal_the_torch_schedule():
    """The numpy sampler visits exactly the torch sampler's timesteps, for every step count."""
    from uoisc_train.vlf.diffusion_schedule import NoiseSchedule
    schedule = NoiseSchedule(TINY)
    for steps in range(1, TINY.timesteps + 1):
        assert ddim_timesteps(TINY.timesteps, steps) == schedule.ddim_timesteps(steps)


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_numpy_onnx_sampler_reproduces_torch_sampling(exported, guidance):
    """DDIM in numpy around the ONNX graph gives torch's sample from the same initial noise,
    with and without guidance (compared at sample size: torch upsamples at the end, the
    block will resize with PIL)."""
    model, out_dir, meta = exported
    features = torch.randn(3, TINY.feature_dim, generator=torch.Generator().manual_seed(2))
    x_T = model.initial_noise(3, seed=9)
    images = ddim_sample(onnx_denoiser(str(out_dir / DENOISER_FILE)), np.array(meta["alpha_bar"]),
                         features.numpy(), x_T.numpy(), steps=4, guidance=guidance)
    assert images.shape == (3, 3, TINY.sample_size, TINY.sample_size)
    # One step agrees to 1e-4; guidance amplifies eps differences by up to 2w - 1 and four
    # steps accumulate them, so allow 4 * (2w - 1) * 1e-4.
    tolerance = 4 * max(1.0, 2 * guidance - 1) * 1e-4
    np.testing.assert_allclose(images, _torch_samples(model, features, 9, 4, guidance), atol=tolerance)


def _torch_samples(model, features, seed, steps, guidance):
    """torch DDIM at sample size: the same weights in a model whose image_size is the sample size."""
    small = FeatureToImageDiffusion(model.config.replace(image_size=model.config.sample_size))
    small.load_state_dict(model.state_dict())
    return small.eval().sample(features, steps=steps, guidance=guidance, seed=seed).numpy()
