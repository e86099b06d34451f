"""Tests of ``uoisc_train.codec.config.CodecConfig``: derived sizes, JSON round trip, validation."""

import json
import math

import pytest
from hypothesis import given, settings, strategies as st

from uoisc_train.codec import CodecConfig


@st.composite
def valid_configs(draw):
    segment_length = draw(st.sampled_from([1, 2, 4, 8, 16, 32]))
    grid = draw(st.integers(1, 16))
    layers = sorted(draw(st.sets(st.integers(1, 24), min_size=1, max_size=6)))
    return CodecConfig(
        backbone=draw(st.sampled_from(["uoisc-tiny-clip", "ViT-B-16"])),
        pretrained=draw(st.one_of(st.none(), st.just("openai"), st.just("models/x"))),
        layers=tuple(layers),
        image_size=grid * draw(st.integers(1, 16)),
        grid_size=grid,
        shared_dim=segment_length * draw(st.integers(1, 32)),
        segment_length=segment_length,
        codebook_size=draw(st.integers(2, 70000)),
        decoder_channels=draw(st.integers(1, 256)),
        text_alignment=draw(st.booleans()),
        text_pooling=draw(st.sampled_from(["attention", "mean"])),
        beta=draw(st.floats(0, 10)),
        lambda_relevance=draw(st.floats(0, 10)),
        index_error_rate=draw(st.floats(0, 1)),
        usage_decay=draw(st.floats(0.01, 0.999)),
    )


@given(valid_configs())
@settings(max_examples=60, deadline=None)
def test_json_round_trip_gives_an_equal_config(config):
    """to_json -> from_json reproduces every field exactly, layers as a tuple."""
    again = CodecConfig.from_json(config.to_json())
    assert again == config
    assert isinstance(again.layers, tuple)


@given(valid_configs())
@settings(max_examples=60, deadline=None)
def test_derived_sizes_follow_their_definitions(config):
    """bits_per_index = ceil(log2 K); n_indices = |L| * grid^2 * D / l_s; bits = product."""
    assert config.bits_per_index == math.ceil(math.log2(config.codebook_size))
    assert 2 ** config.bits_per_index >= config.codebook_size
    assert config.n_indices == (len(config.layers) * config.grid_size ** 2
                                * config.shared_dim // config.segment_length)
    assert config.indices_shape == (len(config.layers), config.grid_size ** 2,
                                    config.shared_dim // config.segment_length)
    assert config.bits_per_image == config.n_indices * config.bits_per_index


def test_tiny_default_payload():
    """The default tiny codec: 3 layers x 64 tokens x 8 segments x 8 bits = 12288 bits."""
    config = CodecConfig()
    assert config.indices_shape == (3, 64, 8)
    assert config.bits_per_index == 8
    assert config.bits_per_image == 3 * 64 * 8 * 8


@pytest.mark.parametrize("field, value", [
    ("layers", ()), ("layers", (3, 2)), ("layers", (0, 2)), ("layers", (2, 2)),
    ("layers", 3), ("image_size", 0), ("grid_size", 7), ("shared_dim", 60),
    ("segment_length", 0), ("codebook_size", 1), ("codebook_size", 2.5),
    ("text_pooling", "max"), ("beta", -0.1), ("lambda_mse", float("nan")),
    ("index_error_rate", 1.5), ("usage_decay", 1.0), ("text_alignment", "yes"),
    ("backbone", ""), ("decoder_channels", True),
])
def test_bad_values_raise_value_error_naming_the_value(field, value):
    """Every out-of-range field raises ValueError whose message names the field or value."""
    with pytest.raises(ValueError) as error:
        CodecConfig(**{field: value})
    message = str(error.value)
    assert field in message or repr(value) in message or str(value) in message


def test_unknown_json_keys_are_refused():
    """A JSON with a key the config does not know (e.g. a typo) is refused, not ignored."""
    data = json.loads(CodecConfig().to_json())
    data["codebok_size"] = 512
    with pytest.raises(ValueError, match="codebok_size"):
        CodecConfig.from_dict(data)


def test_replace_validates_again():
    """replace() returns a changed copy and still rejects bad values."""
    assert CodecConfig().replace(codebook_size=512).bits_per_index == 9
    with pytest.raises(ValueError, match="segment_length"):
        CodecConfig().replace(segment_length=7)


def test_named_configs_are_listed_by_file_stem_and_load_exactly():
    """Every configs/*.json loads as a CodecConfig under its stem; the tiny one is the
    dataclass default (one truth, not two that could drift)."""
    from uoisc_train.codec import get_codec_config, list_codec_configs
    from uoisc_train.codec.registry import CONFIG_DIR
    names = list_codec_configs()
    assert {"uoisc-tiny", "uoisc-vit-b16"} <= set(names)
    for name in names:
        config = get_codec_config(name)
        assert type(config) is CodecConfig
        assert config == CodecConfig.from_json((CONFIG_DIR / f"{name}.json").read_text())
    assert get_codec_config("uoisc-tiny") == CodecConfig()
    vit = get_codec_config("uoisc-vit-b16")
    assert (vit.backbone, vit.layers, vit.image_size, vit.grid_size) == ("ViT-B-16", (3, 6, 9, 12), 224, 14)


def test_unknown_or_invalid_named_configs_are_refused(tmp_path):
    """An unknown name lists the known ones; a JSON file with a bad value names it."""
    from uoisc_train.codec import get_codec_config
    with pytest.raises(ValueError, match="uoisc-tiny"):
        get_codec_config("uoisc-huge")
    bad = tmp_path / "bad.json"
    bad.write_text(CodecConfig().replace(codebook_size=2).to_json().replace('"codebook_size": 2', '"codebook_size": 1'))
    with pytest.raises(ValueError, match="codebook_size=1"):
        get_codec_config(bad)
