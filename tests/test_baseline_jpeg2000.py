"""JPEG2000 baseline (c): byte budget from a symbol budget, budget always respected, and
corrupted codestreams give a clear exception or a grey image, never a crash."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from uoisc_train.baselines import (Jpeg2000DecodeError, bytes_for_symbols, decode_jpeg2000,
                                   decode_or_grey, encode_jpeg2000)
from uoisc_train.world import generate_scene

IMAGE = generate_scene(seed=1, size=64, split="train").image


def test_bytes_for_symbols_is_the_payload_of_the_symbols():
    """8-PSK carries 3 bits per symbol; a rate-1/2 code halves it; bytes are floored."""
    assert bytes_for_symbols(4096) == 1536
    assert bytes_for_symbols(4096, 3, 0.5) == 768
    assert bytes_for_symbols(3) == 1           # 9 bits -> 1 whole byte
    with pytest.raises(ValueError, match="code_rate"):
        bytes_for_symbols(100, 3, 0.0)


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=300, max_value=6000))
def test_codestream_never_exceeds_the_budget(budget):
    """For any feasible budget the codestream fits and decodes to a 64x64 RGB image."""
    result = encode_jpeg2000(IMAGE, budget)
    assert result.n_bytes <= budget
    assert decode_jpeg2000(result.data, (64, 64)).shape == (64, 64, 3)


def test_larger_budget_gives_a_better_image():
    """Quality follows the budget: 4x the bytes gives a lower MSE (rate-distortion monotonicity)."""
    def mse(budget):
        decoded = decode_jpeg2000(encode_jpeg2000(IMAGE, budget).data, (64, 64))
        return np.mean((decoded.astype(float) - IMAGE) ** 2)
    assert mse(1600) < mse(400)


def test_search_uses_most_of_the_budget():
    """The bisection keeps the largest fitting stream: within 10 % of a mid-size budget."""
    assert encode_jpeg2000(IMAGE, 800).n_bytes >= 0.9 * 800


def test_budget_below_the_headers_is_refused():
    """A budget smaller than the smallest codestream raises ValueError naming max_bytes."""
    with pytest.raises(ValueError, match="max_bytes=20"):
        encode_jpeg2000(IMAGE, 20)
    with pytest.raises(ValueError, match="uint8"):
        encode_jpeg2000(IMAGE.astype(np.float32), 800)


def test_corrupted_codestreams_raise_or_decode_never_crash():
    """Random bit flips and truncations: each decode returns a 64x64 image or raises
    Jpeg2000DecodeError; decode_or_grey turns failures into mid-grey with ok=False."""
    data = encode_jpeg2000(IMAGE, 800).data
    rng = np.random.default_rng(0)
    outcomes = {True: 0, False: 0}
    for trial in range(60):
        damaged = bytearray(data)
        if trial % 3 == 0:
            damaged = damaged[:int(rng.integers(1, len(damaged)))]
        else:
            for position in rng.integers(0, len(damaged), 4):
                damaged[position] ^= 1 << int(rng.integers(8))
        image, ok = decode_or_grey(bytes(damaged), (64, 64))
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        if not ok:
            assert (image == 128).all()
        outcomes[ok] += 1
    assert outcomes[False] > 0      # some damage must be detected (headers are hit)


def test_garbage_and_wrong_size_raise_decode_error():
    """Non-JPEG2000 bytes and a valid stream of another size raise Jpeg2000DecodeError."""
    with pytest.raises(Jpeg2000DecodeError):
        decode_jpeg2000(b"\x00" * 100)
    with pytest.raises(Jpeg2000DecodeError, match="expected 32x32"):
        decode_jpeg2000(encode_jpeg2000(IMAGE, 800).data, (32, 32))
