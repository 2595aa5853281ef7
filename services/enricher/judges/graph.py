"""The merged judge model as an ONNX graph, built from the arrays with ``onnx.helper`` (no torch, no export).

onnxruntime runs it several times faster than the numpy reference (``encoder.encode``), which stays the
definition: a test checks that both give the same probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from services.enricher.judges import encoder

OPSET = 17


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs: object) -> str:
        self.n += 1
        out = f"{kind.lower()}_{self.n}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(self, x: str, p: Mapping[str, np.ndarray], name: str) -> str:
        w = self.const(f"{name}.wT", np.ascontiguousarray(p[f"{name}.weight"].T.astype(np.float32)))
        b = self.const(f"{name}.b", p[f"{name}.bias"].astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x: str, p: Mapping[str, np.ndarray], name: str) -> str:
        w = self.const(f"{name}.w", p[f"{name}.weight"].astype(np.float32))
        b = self.const(f"{name}.b", p[f"{name}.bias"].astype(np.float32))
        return self.op("LayerNormalization", [x, w, b], axis=-1, epsilon=encoder.LN_EPS)


def build(params: Mapping[str, np.ndarray], head: Mapping[str, np.ndarray]) -> bytes:
    """Serialized ONNX model: (input_ids, token_type_ids, attention_mask) -> logits (batch, labels)."""
    g = _Builder()
    dh = encoder.HIDDEN // encoder.HEADS
    f32 = np.float32
    word = g.const("word", params["embeddings.word_embeddings.weight"].astype(f32))
    pos = g.const("pos", params["embeddings.position_embeddings.weight"].astype(f32))
    typ = g.const("typ", params["embeddings.token_type_embeddings.weight"].astype(f32))
    zero, one = g.const("zero", np.array(0, np.int64)), g.const("one", np.array(1, np.int64))
    length = g.op("Gather", [g.op("Shape", ["input_ids"]), one], axis=0)
    positions = g.op("Range", [zero, length, one])
    x = g.op("Add", [g.op("Gather", [word, "input_ids"]), g.op("Gather", [pos, positions])])
    x = g.op("Add", [x, g.op("Gather", [typ, "token_type_ids"])])
    x = g.layer_norm(x, params, "embeddings.LayerNorm")
    inv = g.op("Sub", [g.const("onef", np.array(1.0, f32)), "attention_mask"])
    bias = g.op("Mul", [inv, g.const("neg", np.array(-1e9, f32))])
    bias = g.op("Unsqueeze", [bias, g.const("ax12", np.array([1, 2], np.int64))])
    split = g.const("split_heads", np.array([0, 0, encoder.HEADS, dh], np.int64))
    merge = g.const("merge_heads", np.array([0, 0, encoder.HIDDEN], np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(dh), f32))
    half, c1, c2 = (
        g.const(n, np.array(v, f32)) for n, v in (("half", 0.5), ("c1", 0.7978845608028654), ("c2", 0.044715))
    )
    for i in range(encoder.LAYERS):
        pre = f"encoder.layer.{i}."

        def heads(h: str, perm: list[int]) -> str:
            return g.op("Transpose", [g.op("Reshape", [h, split])], perm=perm)

        q = heads(g.linear(x, params, pre + "attention.self.query"), [0, 2, 1, 3])
        k = heads(g.linear(x, params, pre + "attention.self.key"), [0, 2, 3, 1])
        v = heads(g.linear(x, params, pre + "attention.self.value"), [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
        ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge])
        x = g.layer_norm(
            g.op("Add", [x, g.linear(ctx, params, pre + "attention.output.dense")]),
            params,
            pre + "attention.output.LayerNorm",
        )
        h = g.linear(x, params, pre + "intermediate.dense")
        cube = g.op("Mul", [g.op("Mul", [h, h]), h])
        inner = g.op("Mul", [g.op("Add", [h, g.op("Mul", [cube, c2])]), c1])
        h = g.op(
            "Mul",
            [g.op("Mul", [h, half]), g.op("Add", [g.op("Tanh", [inner]), g.const(f"one_{i}", np.array(1.0, f32))])],
        )
        x = g.layer_norm(g.op("Add", [x, g.linear(h, params, pre + "output.dense")]), params, pre + "output.LayerNorm")
    m = g.op("Unsqueeze", ["attention_mask", g.const("ax2", np.array([2], np.int64))])
    ax1 = g.const("ax1", np.array([1], np.int64))
    total = g.op("ReduceSum", [g.op("Mul", [x, m]), ax1], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", ["attention_mask", ax1], keepdims=1), g.const("onec", np.array(1.0, f32))])
    pooled = g.op("Div", [total, count])
    hidden = g.op("Tanh", [g.linear(pooled, head, "head.dense")])
    logits = g.linear(hidden, head, "head.out")
    g.nodes.append(helper.make_node("Identity", [logits], ["logits"]))
    graph = helper.make_graph(
        g.nodes,
        "stance-judge",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", head["head.out.bias"].shape[0]])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="stancewatch")
    model.ir_version = 8
    return model.SerializeToString()
