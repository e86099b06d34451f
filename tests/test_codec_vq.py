"""Tests of the segment-wise vector quantiser (``uoisc_train.codec.vq``, eqs. 5-7, 9, 12)."""

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from uoisc_train.codec.vq import SegmentVectorQuantizer, corrupt_indices


def _brute_force_indices(vectors, quantizer):
    """Nearest codeword per segment by explicit distances to every codeword."""
    segments = quantizer.split(vectors).reshape(-1, quantizer.n_segments, quantizer.segment_length)
    result = torch.empty(segments.shape[:2], dtype=torch.long)
    for row in range(segments.shape[0]):
        for s in range(quantizer.n_segments):
            distances = ((quantizer.codebooks[s] - segments[row, s]) ** 2).sum(-1)
            result[row, s] = int(distances.argmin())
    return result.reshape(*vectors.shape[:-1], quantizer.n_segments)


@given(lead=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       segment_length=st.sampled_from([1, 2, 3, 4]), n_segments=st.integers(1, 4),
       codebook_size=st.integers(2, 12), seed=st.integers(0, 2 ** 16))
@settings(max_examples=40, deadline=None)
def test_indices_are_the_true_nearest_codewords(lead, segment_length, n_segments,
                                                codebook_size, seed):
    """For any shape, every index is the codeword at minimum Euclidean distance (eq. 7),
    and the codewords in the forward output are those of the indices (eq. 9)."""
    torch.manual_seed(seed)
    dim = segment_length * n_segments
    quantizer = SegmentVectorQuantizer(dim, segment_length, codebook_size).double()
    vectors = torch.randn(*lead, dim, dtype=torch.float64)
    out = quantizer(vectors)
    expected = _brute_force_indices(vectors, quantizer)
    assert out.indices.dtype == torch.int64
    assert out.indices.shape == (*lead, n_segments)
    # Ties have probability 0 with continuous random data.
    assert torch.equal(out.indices, expected)
    assert torch.allclose(out.quantized, quantizer.lookup(out.indices))


def test_straight_through_passes_the_gradient_unchanged():
    """Forward value = codewords; d(quantized)/d(input) = identity (straight-through)."""
    quantizer = SegmentVectorQuantizer(8, 4, 5)
    vectors = torch.randn(3, 8, requires_grad=True)
    out = quantizer(vectors)
    weights = torch.randn(3, 8)
    (out.quantized * weights).sum().backward()
    assert torch.allclose(vectors.grad, weights)


def test_codebook_term_moves_only_codebooks_and_commitment_term_only_the_encoder():
    """Eq. 12's stop-gradients: ||sg[z]-e||^2 reaches the codebooks and not z;
    ||z-sg[e]||^2 reaches z and not the codebooks; the total weighs them with beta."""
    quantizer = SegmentVectorQuantizer(8, 2, 6, beta=0.3)
    z = torch.randn(5, 8, requires_grad=True)
    out = quantizer(z)
    grad_z, grad_c = torch.autograd.grad(out.codebook_loss, [z, quantizer.codebooks],
                                         retain_graph=True, allow_unused=True)
    assert grad_z is None or torch.count_nonzero(grad_z) == 0
    assert torch.count_nonzero(grad_c) > 0
    grad_z, grad_c = torch.autograd.grad(out.commitment_loss, [z, quantizer.codebooks],
                                         retain_graph=True, allow_unused=True)
    assert torch.count_nonzero(grad_z) > 0
    assert grad_c is None or torch.count_nonzero(grad_c) == 0
    assert torch.allclose(out.loss, out.codebook_loss + 0.3 * out.commitment_loss)
    # Both terms equal the mean squared distance to the chosen codeword.
    distance = (quantizer.lookup(out.indices) - z).pow(2).mean()
    assert torch.allclose(out.codebook_loss, distance)
    assert torch.allclose(out.commitment_loss, distance)


def test_only_picked_codewords_receive_codebook_gradient():
    """A codeword nobody picked gets zero gradient from eq. 12 (hence the restarts)."""
    quantizer = SegmentVectorQuantizer(2, 2, 3)
    with torch.no_grad():
        quantizer.codebooks.copy_(torch.tensor([[[0.0, 0.0], [1.0, 1.0], [50.0, 50.0]]]))
    quantizer(torch.rand(10, 2)).loss.backward()
    assert torch.count_nonzero(quantizer.codebooks.grad[0, 2]) == 0
    assert torch.count_nonzero(quantizer.codebooks.grad[0, :2]) > 0


def test_lookup_accepts_every_in_range_index_and_rejects_the_rest():
    """Every index in [0, K) decodes (corrupted indices included); negative, >= K,
    float indices or a wrong segment count raise ValueError naming the problem."""
    quantizer = SegmentVectorQuantizer(6, 2, 4)
    every = torch.cartesian_prod(*[torch.arange(4)] * 3)          # all 64 combinations
    vectors = quantizer.lookup(every)
    assert vectors.shape == (64, 6) and torch.isfinite(vectors).all()
    assert torch.equal(vectors[5, 2:4], quantizer.codebooks[1, every[5, 1]])
    with pytest.raises(ValueError, match="4 out of range"):
        quantizer.lookup(torch.tensor([[0, 4, 1]]))
    with pytest.raises(ValueError, match="-1 out of range"):
        quantizer.lookup(torch.tensor([[0, -1, 1]]))
    with pytest.raises(ValueError, match="integer"):
        quantizer.lookup(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="segments"):
        quantizer.lookup(torch.zeros(1, 2, dtype=torch.long))


def test_perplexity_and_usage_statistics():
    """Uniform use of K codewords gives perplexity K and usage 1; one codeword gives 1 and 1/K."""
    quantizer = SegmentVectorQuantizer(1, 1, 4)
    with torch.no_grad():
        quantizer.codebooks.copy_(torch.arange(4.0).view(1, 4, 1))
    uniform = quantizer(torch.arange(4.0).repeat(3).view(12, 1))
    assert uniform.perplexity.item() == pytest.approx(4.0)
    assert uniform.usage.item() == pytest.approx(1.0)
    collapsed = quantizer(torch.zeros(12, 1))
    assert collapsed.perplexity.item() == pytest.approx(1.0)
    assert collapsed.usage.item() == pytest.approx(0.25)


def test_dead_code_restart_revives_unused_codewords():
    """A codeword far from the data is never picked; after some training steps it is
    flagged dead, the restart moves it onto an encoder output, and it then gets picked."""
    torch.manual_seed(0)
    quantizer = SegmentVectorQuantizer(2, 2, 4, usage_decay=0.5, dead_code_threshold=0.1)
    data = torch.randn(64, 2)
    with torch.no_grad():
        quantizer.codebooks.copy_(torch.tensor([[[0.5, 0.5], [-0.5, 0.5], [0.0, -0.5],
                                                 [100.0, 100.0]]]))
    quantizer.train()
    for _ in range(3):
        quantizer(data)
    assert quantizer.dead_codes()[0].tolist() == [False, False, False, True]
    assert quantizer.restart_dead_codes(data) == 1
    revived = quantizer.codebooks[0, 3]
    assert (data == revived).all(dim=1).any(), "restarted codeword must be a data segment"
    assert not quantizer.dead_codes().any()
    # The data point it copies is now at distance 0 from it, so it gets picked.
    assert (quantizer(data).indices == 3).any()


def test_first_restart_initialises_the_codebook_from_data():
    """Usage starts at zero, so the first restart replaces every codeword by data segments."""
    quantizer = SegmentVectorQuantizer(4, 2, 3)
    data = torch.randn(20, 4) + 10.0
    assert quantizer.restart_dead_codes(data) == 2 * 3
    segments = quantizer.split(data)
    for s in range(2):
        for k in range(3):
            assert (segments[:, s] == quantizer.codebooks[s, k]).all(dim=1).any()


def test_usage_is_only_tracked_in_training_mode():
    """eval() leaves the usage average untouched (inference must not change the model)."""
    quantizer = SegmentVectorQuantizer(4, 2, 3).eval()
    quantizer(torch.randn(5, 4))
    assert torch.count_nonzero(quantizer.usage_ema) == 0
    quantizer.train()(torch.randn(5, 4))
    assert torch.allclose(quantizer.usage_ema.sum(-1), torch.full((2,), 1 - quantizer.usage_decay))


def test_corrupt_indices_rate_extremes_and_range():
    """rate 0 changes nothing, rate 1 changes every index; results stay in [0, K)."""
    indices = torch.randint(0, 16, (50, 7))
    assert torch.equal(corrupt_indices(indices, 0.0, 16), indices)
    every = corrupt_indices(indices, 1.0, 16)
    assert (every != indices).all()
    assert every.min() >= 0 and every.max() < 16 and every.dtype == torch.int64


def test_corrupt_indices_realised_rate_matches_the_requested_rate():
    """The fraction of changed indices is binomial(n, p): within 5 standard deviations of p."""
    n, p = 40000, 0.3
    indices = torch.randint(0, 4, (n,))
    generator = torch.Generator().manual_seed(1)
    changed = (corrupt_indices(indices, p, 4, generator=generator) != indices).float().mean()
    assert abs(changed.item() - p) < 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("kwargs, name", [
    (dict(dim=6, segment_length=4, codebook_size=4), "segment_length"),
    (dict(dim=4, segment_length=2, codebook_size=1), "codebook_size"),
    (dict(dim=4, segment_length=2, codebook_size=4, usage_decay=1.5), "usage_decay"),
])
def test_bad_constructor_arguments_raise(kwargs, name):
    """Inconsistent sizes raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=name):
        SegmentVectorQuantizer(**kwargs)


def test_erasure_row_is_index_k_and_only_with_the_erasure_token():
    """With erasure_token the index K reads the segment's erasure row (K + 1 is still out of
    range); without it K is out of range; reset_erasure_codewords sets the row to the mean of
    the segment's codebook."""
    torch.manual_seed(0)
    quantizer = SegmentVectorQuantizer(6, 2, 4, erasure_token=True)
    assert quantizer.erasure_index == 4 and SegmentVectorQuantizer(6, 2, 4).erasure_index is None
    quantizer.reset_erasure_codewords()
    vectors = quantizer.lookup(torch.tensor([[4, 0, 4]]))
    assert torch.allclose(vectors[0, 0:2], quantizer.codebooks[0].mean(0))
    assert torch.equal(vectors[0, 2:4], quantizer.codebooks[1, 0])
    assert torch.allclose(vectors[0, 4:6], quantizer.codebooks[2].mean(0))
    with pytest.raises(ValueError, match="5 out of range"):
        quantizer.lookup(torch.tensor([[0, 5, 1]]))
    with pytest.raises(ValueError, match="4 out of range"):
        SegmentVectorQuantizer(6, 2, 4).lookup(torch.tensor([[0, 4, 1]]))
    with pytest.raises(ValueError, match="no erasure token"):
        SegmentVectorQuantizer(6, 2, 4).reset_erasure_codewords()


def test_erasure_row_changes_neither_the_indices_nor_the_statistics():
    """Eq. 7 never picks the erasure row, even when it sits exactly on the input: the indices,
    the loss and the usage statistics equal those of the same quantiser without the row."""
    torch.manual_seed(0)
    plain = SegmentVectorQuantizer(8, 4, 5)
    with_row = SegmentVectorQuantizer(8, 4, 5, erasure_token=True)
    with_row.codebooks.data.copy_(plain.codebooks.data)
    vectors = torch.randn(7, 8)
    with_row.erasure_codewords.data.copy_(vectors[0].reshape(2, 4))
    a, b = plain(vectors), with_row(vectors)
    assert torch.equal(a.indices, b.indices) and b.indices.max() < 5
    assert torch.equal(a.loss, b.loss) and torch.equal(plain.usage_ema, with_row.usage_ema)
