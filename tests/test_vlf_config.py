"""VlfConfig: JSON round trip, derived bit counts and validation of every field."""

import json

import pytest
from hypothesis import given, strategies as st

from uoisc_train.vlf.config import QUANTIZERS, VlfConfig


@given(quantizer=st.sampled_from(QUANTIZERS), segment_length=st.sampled_from([1, 2, 4, 8, 16]),
       codebook_size=st.integers(2, 70000), scalar_bits=st.integers(1, 16),
       query_modulation=st.booleans(), text_pooling=st.sampled_from(["mean", "attention"]))
def test_json_round_trip_gives_an_equal_config(quantizer, segment_length, codebook_size,
                                               scalar_bits, query_modulation, text_pooling):
    """to_json -> from_json returns an equal config for any valid field values."""
    config = VlfConfig(quantizer=quantizer, segment_length=segment_length,
                       codebook_size=codebook_size, scalar_bits=scalar_bits,
                       query_modulation=query_modulation, text_pooling=text_pooling)
    assert VlfConfig.from_json(config.to_json()) == config
    assert json.loads(config.to_json())["quantizer"] == quantizer


@pytest.mark.parametrize("changes, bits, n_codes", [
    ({"quantizer": "vq", "segment_length": 8, "codebook_size": 256}, 128, 16),
    ({"quantizer": "vq", "segment_length": 4, "codebook_size": 256}, 256, 32),
    ({"quantizer": "vq", "segment_length": 2, "codebook_size": 256}, 512, 64),
    ({"quantizer": "vq", "segment_length": 4, "codebook_size": 200}, 256, 32),   # ceil(log2 200) = 8
    ({"quantizer": "scalar", "scalar_bits": 1}, 128, 128),
    ({"quantizer": "scalar", "scalar_bits": 4}, 512, 128),
])
def test_bits_per_feature_follows_the_geometry(changes, bits, n_codes):
    """bits = n_codes * ceil(log2 levels): E/l_s VQ indices, or E scalar levels."""
    config = VlfConfig(embed_dim=128, **changes)
    assert (config.bits_per_feature, config.n_codes) == (bits, n_codes)


@pytest.mark.parametrize("field, value", [
    ("quantizer", "lattice"), ("segment_length", 3), ("segment_length", 0),
    ("codebook_size", 1), ("scalar_bits", 0), ("scalar_bits", 17), ("embed_dim", -4),
    ("query_modulation", 1), ("text_pooling", "max"), ("beta", -1.0), ("beta", float("nan")),
    ("usage_decay", 1.0), ("backbone", ""), ("pretrained", 3), ("codebook_size", True),
])
def test_bad_field_raises_value_error_naming_it(field, value):
    """An out-of-range value raises ValueError whose message names the field."""
    with pytest.raises(ValueError, match=field):
        VlfConfig(**{field: value})


def test_unknown_json_field_is_refused():
    """from_dict refuses keys that are not fields (a typo must not be ignored)."""
    with pytest.raises(ValueError, match="codebok_size"):
        VlfConfig.from_dict({"codebok_size": 16})
