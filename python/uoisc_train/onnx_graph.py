"""Post-processing of exported ONNX graphs: fixed output shapes and lossless fp16 storage.

* The legacy exporter leaves axes computed by a Reshape symbolic (e.g. the
  token axis of ``indices``); the bundle loader checks every non-batch axis, so
  the known shape is written into the graph's output.
* Weights that are *exactly* representable in fp16 (the shipped tiny CLIP is
  stored in fp16, so all of its weights are) are stored as fp16 initializers
  followed by a ``Cast`` to float32: the graph computes on the same float32
  values bit for bit, and the file is about half as large. Other weights stay float32.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

__all__ = ["MethodGraph", "mha_fastpath_disabled", "set_output_shape", "store_exact_fp16",
           "finalize_graph"]


class MethodGraph(nn.Module):
    """One method of a model as the ``forward`` that ``torch.onnx.export`` traces,
    e.g. ``MethodGraph(codec, "compress")`` for the encoder graph of a bundle."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        if not callable(getattr(model, method, None)):
            raise ValueError(f"{type(model).__name__} has no method {method!r}")
        self.model, self.method = model, method

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return getattr(self.model, self.method)(*inputs)


@contextlib.contextmanager
def mha_fastpath_disabled() -> Iterator[None]:
    """Trace open_clip's ``nn.MultiheadAttention`` as plain ops: its fast path traces to the
    fused ``aten::_native_multi_head_attention``, which has no ONNX symbolic."""
    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)

#: Smaller tensors are not worth a Cast node.
_MIN_ELEMENTS = 1024


def set_output_shape(model: onnx.ModelProto, name: str, shape: Sequence[int | str]) -> None:
    """Write ``shape`` (ints, or a string for a symbolic axis) into graph output ``name``."""
    for output in model.graph.output:
        if output.name == name:
            dims = output.type.tensor_type.shape.dim
            if len(dims) != len(shape):
                raise ValueError(f"output {name!r} has rank {len(dims)}, shape {list(shape)} given")
            for dim, value in zip(dims, shape):
                dim.Clear()
                if isinstance(value, str):
                    dim.dim_param = value
                else:
                    dim.dim_value = int(value)
            return
    raise ValueError(f"graph has no output {name!r}")


def store_exact_fp16(model: onnx.ModelProto) -> int:
    """Store fp16-exact float32 initializers as fp16 + Cast; returns how many were converted."""
    graph = model.graph
    converted, kept, casts = 0, [], []
    for initializer in graph.initializer:
        values = numpy_helper.to_array(initializer)
        if (initializer.data_type != TensorProto.FLOAT or values.size < _MIN_ELEMENTS
                or not np.array_equal(values.astype(np.float16).astype(np.float32), values)):
            kept.append(initializer)
            continue
        half_name = f"{initializer.name}__fp16"
        kept.append(numpy_helper.from_array(values.astype(np.float16), half_name))
        casts.append(helper.make_node("Cast", [half_name], [initializer.name],
                                      to=TensorProto.FLOAT, name=f"{initializer.name}__cast"))
        converted += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    # Casts first: the nodes must stay topologically sorted.
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    return converted


def finalize_graph(path: str | Path, output_shapes: dict[str, Sequence[int | str]]) -> int:
    """Apply :func:`set_output_shape` and :func:`store_exact_fp16` to an ONNX file in place.

    Returns:
        The number of initializers stored as fp16.
    """
    model = onnx.load(str(path))
    for name, shape in output_shapes.items():
        set_output_shape(model, name, shape)
    converted = store_exact_fp16(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return converted
