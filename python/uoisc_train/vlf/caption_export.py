"""Caption decoder to ONNX, and a numpy greedy decoder over it (for a torch-free receiver block).

The graph is one teacher-forced pass at a **fixed** token length ``max_len``:
``(feature N x E, tokens N x max_len) -> log_probs N x max_len x V``. Why fixed:
the legacy exporter bakes the sequence length into ``nn.MultiheadAttention``'s
reshapes, so a graph traced at one length fails at another. Decoding pads the
tokens to ``max_len`` and reads position ``t``; the causal mask makes the padding
after ``t`` irrelevant, so the result equals torch's :meth:`CaptionDecoder.generate`
(greedy). The loop is ``uoisc_runtime.vlf_caption.onnx_greedy_decode`` (numpy only),
re-exported here.

Files: ``caption_decoder.onnx`` and ``caption.json`` (vocabulary, special ids,
``max_len``, ``embed_dim``, sha256, parity), written by :func:`export_caption_decoder`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from uoisc_runtime import sha256_file
from uoisc_runtime.vlf_caption import onnx_greedy_decode
from uoisc_train.export import OPSET
from uoisc_train.onnx_graph import finalize_graph, mha_fastpath_disabled
from uoisc_train.runs import git_commit
from uoisc_train.vlf.caption import CaptionDecoder

__all__ = ["CAPTION_GRAPH_FILE", "CAPTION_SPEC_FILE", "export_caption_decoder", "onnx_greedy_decode"]

CAPTION_GRAPH_FILE, CAPTION_SPEC_FILE = "caption_decoder.onnx", "caption.json"


class _StepGraph(nn.Module):
    """``(feature, tokens) -> log_probs`` at every position, fixed length."""

    def __init__(self, decoder: CaptionDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, feature: Tensor, tokens: Tensor) -> Tensor:
        return torch.log_softmax(self.decoder.logits(feature, tokens), dim=-1)


def export_caption_decoder(decoder: CaptionDecoder, out_dir: str | Path, parity_features: int = 4,
                           seed: int = 0) -> dict[str, Any]:
    """Write ``caption_decoder.onnx`` and ``caption.json``; check greedy parity with torch.

    Raises:
        RuntimeError: onnxruntime's greedy tokens differ from torch's.
    """
    import onnxruntime as ort

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config, vocabulary = decoder.config, decoder.vocabulary
    was_training = decoder.training
    graph = _StepGraph(decoder).eval()
    try:
        with mha_fastpath_disabled(), torch.no_grad():
            torch.onnx.export(graph, (torch.zeros(2, config.embed_dim),
                                      torch.zeros(2, config.max_len, dtype=torch.int64)),
                              str(out_dir / CAPTION_GRAPH_FILE), input_names=["feature", "tokens"],
                              output_names=["log_probs"],
                              dynamic_axes={name: {0: "batch"} for name in ("feature", "tokens", "log_probs")},
                              opset_version=OPSET, dynamo=False)
    finally:
        decoder.train(was_training)   # export restores the wrapper's mode, not the decoder's
    # Fixed output shape (the runtime checks it) and fp16 storage of fp16-exact weights.
    finalize_graph(out_dir / CAPTION_GRAPH_FILE, {"log_probs": ["batch", config.max_len, len(vocabulary)]})
    spec = {"format_version": 1, "kind": "vlf_caption_decoder", "embed_dim": config.embed_dim,
            "max_len": config.max_len, "vocabulary": list(vocabulary.tokens),
            "special_ids": {"pad": vocabulary.pad_id, "bos": vocabulary.bos_id,
                            "eos": vocabulary.eos_id, "unk": vocabulary.unk_id},
            "graph": {"file": CAPTION_GRAPH_FILE, "sha256": sha256_file(out_dir / CAPTION_GRAPH_FILE),
                      "inputs": {"feature": ["batch", config.embed_dim], "tokens": ["batch", config.max_len]},
                      "outputs": {"log_probs": ["batch", config.max_len, len(vocabulary)]}},
            "decoder_config": config.to_dict(),
            "exported_by": {"git_commit": git_commit(), "torch": torch.__version__, "opset": OPSET}}
    session = ort.InferenceSession(str(out_dir / CAPTION_GRAPH_FILE), providers=["CPUExecutionProvider"])
    features = torch.randn(parity_features, config.embed_dim, generator=torch.Generator().manual_seed(seed))
    expected, _ = decoder.generate(features)
    actual = onnx_greedy_decode(session, features.numpy(), spec)
    if actual.shape != tuple(expected.shape) or not np.array_equal(actual, expected.numpy()):
        raise RuntimeError(f"caption export parity failed: onnxruntime tokens {actual.tolist()} != "
                           f"torch tokens {expected.tolist()}")
    spec["parity"] = {"n_features": parity_features, "seed": seed, "greedy_tokens_equal": True}
    (out_dir / CAPTION_SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    return spec
