"""VLF bundle export: graphs, codec.json fields and parity torch vs onnxruntime."""

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from test_vlf_fakes import FakeEmbeddingBackbone
from uoisc_runtime import sha256_file
from uoisc_train.vlf import VlfConfig, VlfTransmitter
from uoisc_train.vlf.export import (VLF_DEQUANTIZER_FILE, VLF_ENCODER_FILE, VLF_MODE,
                                    export_vlf_bundle)

E, SIZE = 16, 32


def fitted_transmitter(**changes):
    config = VlfConfig(embed_dim=E, image_size=SIZE, segment_length=4, codebook_size=8, **changes)
    torch.manual_seed(0)
    transmitter = VlfTransmitter(config, FakeEmbeddingBackbone(embed_dim=E, image_size=SIZE))
    with torch.no_grad():
        transmitter.fit_quantizer(transmitter.encode(torch.rand(64, 3, SIZE, SIZE),
                                                     transmitter.backbone.tokenize(["a b"] * 64)))
    return transmitter


@pytest.mark.parametrize("changes", [{"quantizer": "vq"}, {"quantizer": "scalar", "scalar_bits": 3},
                                     {"quantizer": "vq", "query_modulation": True}])
def test_exported_graphs_match_torch_on_new_images(tmp_path, changes):
    """onnxruntime gives torch's indices and dequantised features on images the parity check never saw."""
    transmitter = fitted_transmitter(**changes)
    spec = export_vlf_bundle(transmitter, tmp_path, "test-vlf")
    assert spec["parity"]["index_mismatch_fraction"] == 0.0
    images = torch.rand(3, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(11))
    feeds = {"image": images.numpy()}
    token_ids = None
    if transmitter.config.query_modulation:
        token_ids = transmitter.backbone.tokenize(["where is it", "a b c", "x"])
        feeds["token_ids"] = token_ids.numpy()
    encoder = ort.InferenceSession(str(tmp_path / VLF_ENCODER_FILE), providers=["CPUExecutionProvider"])
    dequantizer = ort.InferenceSession(str(tmp_path / VLF_DEQUANTIZER_FILE),
                                       providers=["CPUExecutionProvider"])
    (indices,) = encoder.run(["indices"], feeds)
    expected = transmitter.compress(images, token_ids)
    np.testing.assert_array_equal(indices, expected.numpy())
    (feature,) = dequantizer.run(["feature"], {"indices": indices})
    np.testing.assert_allclose(feature, transmitter.dequantize(expected).detach().numpy(), atol=1e-6)


def test_codec_json_describes_the_bundle(tmp_path):
    """codec.json has mode vlf, the geometry of the config, the files' sha256 and the I/O shapes."""
    transmitter = fitted_transmitter(quantizer="vq")
    export_vlf_bundle(transmitter, tmp_path, "test-vlf")
    spec = json.loads((tmp_path / "codec.json").read_text())
    config = transmitter.config
    assert spec["mode"] == VLF_MODE and spec["format_version"] == 1
    assert spec["indices_shape"] == [config.n_codes] == [E // 4]
    assert spec["bits_per_image"] == config.bits_per_feature == (E // 4) * 3
    assert spec["encoder"]["sha256"] == sha256_file(tmp_path / VLF_ENCODER_FILE)
    assert spec["dequantizer"]["sha256"] == sha256_file(tmp_path / VLF_DEQUANTIZER_FILE)
    assert spec["dequantizer"]["outputs"]["feature"]["shape"] == ["batch", E]
    assert "token_ids" not in spec["encoder"]["inputs"] and spec["text_alignment"] is False
    assert VlfConfig.from_dict(spec["vlf_config"]) == config


def test_model_id_must_not_be_empty(tmp_path):
    """An empty model id is refused before anything is written."""
    with pytest.raises(ValueError, match="model_id"):
        export_vlf_bundle(fitted_transmitter(), tmp_path, "")
    assert not any(tmp_path.iterdir())
