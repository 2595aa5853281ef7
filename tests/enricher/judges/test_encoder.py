"""The encoder's loader: safetensors read exactly, a wrong hash refused, the pinned base verified."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from services.enricher.judges import encoder


def write_safetensors(path: Path, arrays: dict[str, np.ndarray]) -> None:
    header, blobs, offset = {}, [], 0
    for name, arr in arrays.items():
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {
            "dtype": {"float32": "F32", "int64": "I64"}[str(arr.dtype)],
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def test_safetensors_arrays_come_back_with_their_shapes_and_values(tmp_path: Path) -> None:
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "ids": np.array([[1, 2]], dtype=np.int64)}
    write_safetensors(tmp_path / "m.safetensors", arrays)
    back = encoder.read_safetensors(tmp_path / "m.safetensors")
    assert back["w"].shape == (2, 3) and back["w"].tolist() == arrays["w"].tolist()
    assert back["ids"].tolist() == [[1, 2]]


def test_a_file_whose_hash_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "m.safetensors", {"w": np.zeros(2, np.float32)})
    with pytest.raises(encoder.EncoderError, match="is not the pinned"):
        encoder.read_safetensors(tmp_path / "m.safetensors", "0" * 64)


def test_the_installed_base_is_the_pinned_all_minilm_l6_v2() -> None:
    base = encoder.load_base()
    assert base["embeddings.word_embeddings.weight"].shape == (30522, encoder.HIDDEN)
    assert f"encoder.layer.{encoder.LAYERS - 1}.output.dense.weight" in base


def test_a_longer_pair_is_cut_from_the_end_of_its_second_segment() -> None:
    tok = encoder.Tokenizer(max_length=16)
    batch = tok.encode([("Donald Trump. Tomahawks.", "word " * 40)])
    assert batch.ids.shape == (1, 16)
    assert batch.mask.sum() == 16 and batch.ids[0, -1] == 102  # [SEP] closes the cut sequence
