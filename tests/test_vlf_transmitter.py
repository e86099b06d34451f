"""VlfTransmitter and its quantisers: shapes, bits, nearest codeword, straight-through, fitting."""

import pytest
import torch

from test_vlf_fakes import FakeEmbeddingBackbone
from uoisc_train.vlf import ScalarQuantizer, VlfConfig, VlfTransmitter, fit_codebooks

E, SIZE = 16, 32


def make_transmitter(**changes):
    config = VlfConfig(embed_dim=E, image_size=SIZE, segment_length=4, codebook_size=8, **changes)
    torch.manual_seed(0)
    return VlfTransmitter(config, FakeEmbeddingBackbone(embed_dim=E, image_size=SIZE))


@pytest.mark.parametrize("quantizer", ["vq", "scalar"])
def test_compress_shapes_and_range_fit_the_bit_budget(quantizer):
    """compress gives int64 N x n_codes in [0, n_levels); dequantize gives N x E."""
    transmitter = make_transmitter(quantizer=quantizer, scalar_bits=3)
    indices = transmitter.compress(torch.rand(5, 3, SIZE, SIZE))
    config = transmitter.config
    assert indices.dtype == torch.int64 and indices.shape == (5, config.n_codes)
    assert 0 <= indices.min() and indices.max() < config.n_levels
    assert config.n_levels <= 2 ** config.bits_per_index
    assert transmitter.dequantize(indices).shape == (5, E)


def test_vq_index_is_the_nearest_codeword_of_each_segment():
    """Every sent index is the argmin of the squared distance over its own segment's codebook."""
    transmitter = make_transmitter(quantizer="vq")
    images = torch.rand(6, 3, SIZE, SIZE)
    feature = transmitter.encode(images)
    indices = transmitter.compress(images)
    segments = feature.reshape(6, E // 4, 1, 4)
    distances = (segments - transmitter.quantizer.codebooks.unsqueeze(0)).pow(2).sum(-1)
    torch.testing.assert_close(distances.gather(2, indices.unsqueeze(-1)).squeeze(-1),
                               distances.min(dim=2).values)


def test_scalar_quantiser_error_is_at_most_half_a_step_inside_the_range():
    """Inside [low, high] every value is reconstructed within half a cell of 2**b cells."""
    quantizer = ScalarQuantizer(dim=4, bits=3)
    quantizer.calibrate(torch.linspace(-1, 1, 200).unsqueeze(1).repeat(1, 4), tail=0.0)
    values = torch.rand(100, 4) * 2 - 1
    error = (quantizer.lookup(quantizer.quantize(values)) - values).abs()
    assert (error <= quantizer.step / 2 + 1e-6).all()
    torch.testing.assert_close(quantizer.step, torch.full((4,), 2 / 8))


@pytest.mark.parametrize("quantizer", ["vq", "scalar"])
def test_forward_copies_the_gradient_straight_through(quantizer):
    """d(sum feature_hat)/d(feature) is the identity: the quantiser passes gradients unchanged."""
    transmitter = make_transmitter(quantizer=quantizer)
    feature = torch.randn(3, E, requires_grad=True)
    if quantizer == "vq":
        feature_hat = transmitter.quantizer(feature).quantized
    else:
        feature_hat, _ = transmitter.quantizer(feature)
    (feature_hat * torch.arange(E)).sum().backward()
    torch.testing.assert_close(feature.grad, torch.arange(E).float().expand(3, E))


def test_forward_returns_the_documented_dict():
    """forward gives feature, feature_hat, indices, a finite loss and a cosine in [-1, 1]."""
    out = make_transmitter()(torch.rand(4, 3, SIZE, SIZE))
    assert set(out) == {"feature", "feature_hat", "indices", "loss", "cosine"}
    assert out["feature"].shape == out["feature_hat"].shape == (4, E)
    assert torch.isfinite(out["loss"]) and -1 <= out["cosine"] <= 1


@pytest.mark.parametrize("quantizer", ["vq", "scalar"])
def test_fitting_the_quantiser_lowers_its_error(quantizer):
    """fit_quantizer (k-means / quantile range) beats the random or default initialisation."""
    transmitter = make_transmitter(quantizer=quantizer)
    with torch.no_grad():
        features = transmitter.encode(torch.rand(64, 3, SIZE, SIZE))

    @torch.no_grad()
    def mse():
        return (transmitter.dequantize(transmitter.quantize_feature(features)) - features).pow(2).mean()

    before = float(mse())
    reported = transmitter.fit_quantizer(features)
    assert float(mse()) < before
    assert reported == pytest.approx(float(mse()), rel=1e-5)


def test_kmeans_recovers_well_separated_clusters_exactly():
    """With K tight clusters per segment, k-means puts one codeword on each: error ~ the noise."""
    from uoisc_train.codec.vq import SegmentVectorQuantizer
    quantizer = SegmentVectorQuantizer(dim=4, segment_length=2, codebook_size=2)
    centres = torch.tensor([[1.0, 1.0, -1.0, 2.0], [-1.0, -1.0, 3.0, 0.0]])
    vectors = centres.repeat(50, 1) + 0.01 * torch.randn(100, 4, generator=torch.Generator().manual_seed(1))
    error = fit_codebooks(quantizer, vectors, iterations=10)
    assert error < 1e-3


def test_query_modulation_needs_token_ids_and_changes_the_feature():
    """With query modulation the feature depends on the query; without token_ids it refuses."""
    transmitter = make_transmitter(query_modulation=True)
    with torch.no_grad():  # FiLM starts as the identity; perturb it so the query matters
        transmitter.film.shift_mlp[-1].weight.normal_()
    images = torch.rand(2, 3, SIZE, SIZE)
    with pytest.raises(ValueError, match="token_ids"):
        transmitter.encode(images)
    first = transmitter.encode(images, torch.tensor([[5, 6, 0], [5, 6, 0]]))
    second = transmitter.encode(images, torch.tensor([[9, 2, 7], [9, 2, 7]]))
    assert not torch.allclose(first, second)


def test_bad_indices_are_refused_with_a_clear_error():
    """Out-of-range or mis-shaped indices raise ValueError, never index silently."""
    transmitter = make_transmitter(quantizer="vq")
    with pytest.raises(ValueError, match="out of range"):
        transmitter.dequantize(torch.full((1, transmitter.config.n_codes), 8))
    with pytest.raises(ValueError, match="expected N x"):
        transmitter.dequantize(torch.zeros(1, 3, dtype=torch.int64))


def test_backbone_config_mismatch_is_refused():
    """A backbone whose embedding size differs from the config is refused at construction."""
    with pytest.raises(ValueError, match="embed_dim"):
        VlfTransmitter(VlfConfig(embed_dim=32, image_size=SIZE), FakeEmbeddingBackbone(embed_dim=E))


def test_score_quantizer_is_perfect_on_codewords_and_worse_elsewhere():
    """Features that are exactly codewords score cosine 1 and MSE 0; perturbed ones score less."""
    from uoisc_train.vlf.compare_quantizers import score_quantizer
    transmitter = make_transmitter(quantizer="vq")
    with torch.no_grad():
        codewords = transmitter.dequantize(torch.randint(0, 8, (5, transmitter.config.n_codes)))
    perfect = score_quantizer(transmitter, codewords)
    assert perfect["cosine_mean"] == pytest.approx(1.0, abs=1e-6) and perfect["mse"] < 1e-12
    noisy = score_quantizer(transmitter, codewords + 0.3 * torch.randn(codewords.shape))
    assert noisy["cosine_mean"] < 1.0 and noisy["mse"] > 0
