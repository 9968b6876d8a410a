"""A served model as an ONNX graph, for other runtimes: Gemm per dense layer, the activation between
them (its operator from the engine's ``ACTIVATIONS`` registry), Softmax at the end.

Input ``pixels``: float32 ``[N, 784]`` in [0, 1] (ink = 1, as /api/predict takes them); output
``probabilities``: float32 ``[N, classes]``. Opset 20 (``Gelu`` with the tanh approximation).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from deeplook import __version__
from deeplook.app.models import ServingModel
from deeplook.engine.activations import ACTIVATIONS

OPSET = 20
INPUT = "pixels"
OUTPUT = "probabilities"


def to_onnx(model: ServingModel) -> onnx.ModelProto:
    """The network of ``model`` as a checked ONNX model."""
    weights = model.weights
    config = weights.config
    spec = ACTIVATIONS[config.activation]
    nodes, initializers = [], []
    x = INPUT
    layers = weights.layers
    for i, (W, b) in enumerate(layers):
        initializers += [
            numpy_helper.from_array(np.asarray(W, dtype=np.float32), f"dense{i}.W"),
            numpy_helper.from_array(np.asarray(b, dtype=np.float32), f"dense{i}.b"),
        ]
        out = f"dense{i}" if i < len(layers) - 1 else "logits"
        nodes.append(helper.make_node("Gemm", [x, f"dense{i}.W", f"dense{i}.b"], [out], name=f"dense{i}"))
        x = out
        if i < len(layers) - 1:
            name = f"{spec.name}{i}"
            nodes.append(helper.make_node(spec.onnx_op, [x], [name], name=name, **spec.onnx_attributes))
            x = name
    nodes.append(helper.make_node("Softmax", [x], [OUTPUT], name="softmax", axis=-1))
    graph = helper.make_graph(
        nodes,
        f"deeplook-{model.run_id}-epoch{model.epoch}",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", config.input_size])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", config.classes])],
        initializer=initializers,
        doc_string=f"{model.dataset}: {config.input_size} pixels in [0, 1] (ink = 1) -> class probabilities",
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="deeplook",
        producer_version=__version__,
    )
    onnx_model.ir_version = 10  # opset 20's; runtimes from 2024 on read it
    helper.set_model_props(
        onnx_model,
        {
            "run_id": model.run_id,
            "epoch": str(model.epoch),
            "dataset": model.dataset,
            "class_names": ",".join(model.class_names),
            "activation": config.activation,
        },
    )
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def onnx_bytes(model: ServingModel) -> bytes:
    return to_onnx(model).SerializeToString()
