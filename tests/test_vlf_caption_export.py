"""Caption decoder ONNX export: numpy greedy decoding over onnxruntime equals torch's greedy."""

import json

import numpy as np
import onnxruntime as ort
import torch

from uoisc_train.vlf.caption import CaptionDecoder, CaptionDecoderConfig
from uoisc_train.vlf.caption_export import (CAPTION_GRAPH_FILE, CAPTION_SPEC_FILE,
                                            export_caption_decoder, onnx_greedy_decode)
from uoisc_runtime import sha256_file

E = 16


def trained_decoder():
    """A small decoder trained a few steps, so captions end with eos at varied lengths."""
    torch.manual_seed(0)
    decoder = CaptionDecoder(CaptionDecoderConfig(embed_dim=E, prefix_length=2, width=32, layers=1,
                                                  heads=2, max_len=12, dropout=0.1))
    tokens = decoder.vocabulary.batch(["A cat.", "A red circle.", "A small blue star at the top."], 12)
    features = torch.randn(3, E, generator=torch.Generator().manual_seed(1))
    optimiser = torch.optim.Adam(decoder.parameters(), lr=3e-3)
    for _ in range(20):
        loss = decoder(features, tokens)["loss"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return decoder


def test_onnx_greedy_decoding_matches_torch_on_new_features(tmp_path):
    """On features the export never saw, the numpy loop over onnxruntime gives torch's greedy tokens."""
    decoder = trained_decoder()
    spec = export_caption_decoder(decoder, tmp_path)
    assert decoder.training   # the export leaves the decoder's mode as it was
    session = ort.InferenceSession(str(tmp_path / CAPTION_GRAPH_FILE), providers=["CPUExecutionProvider"])
    features = torch.randn(5, E, generator=torch.Generator().manual_seed(9))
    expected, _ = decoder.generate(features)
    np.testing.assert_array_equal(onnx_greedy_decode(session, features.numpy(), spec), expected.numpy())


def test_caption_json_records_vocabulary_and_hash(tmp_path):
    """caption.json carries the vocabulary, the special ids, max_len and the graph's sha256."""
    decoder = trained_decoder()
    export_caption_decoder(decoder, tmp_path)
    spec = json.loads((tmp_path / CAPTION_SPEC_FILE).read_text())
    assert spec["vocabulary"] == list(decoder.vocabulary.tokens)
    assert spec["special_ids"]["eos"] == decoder.vocabulary.eos_id and spec["max_len"] == 12
    assert spec["graph"]["sha256"] == sha256_file(tmp_path / CAPTION_GRAPH_FILE)
    assert spec["parity"]["greedy_tokens_equal"] is True
