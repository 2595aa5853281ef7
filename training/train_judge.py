"""Fine-tune the stance judge: a low-rank adapter on MiniLM plus a small head, trained with JAX on CPU.

    python training/train_judge.py --out services/enricher/judges/data/adapter.npz

Deterministic for a seed. Reads the training sets named in data/manifest.yaml, holds out a
development split (by sentence, so one sentence never sits on both sides), fits a temperature on it
and writes the adapter, the temperature and the split's scores. Needs the `[train]` extra (jax, optax).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.enricher.judges import corpus as corpus_mod  # noqa: E402
from services.enricher.judges import encoder  # noqa: E402
from services.enricher.judges.pairs import LABELS, first_segment, second_segment  # noqa: E402
from services.enricher.watchlist import load_watchlist  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "services/enricher/judges/data/adapter.npz")
    ap.add_argument("--epochs", type=float, default=4.0)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=96)
    ap.add_argument("--dev-percent", type=int, default=12)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit-steps", type=int, default=0, help="stop after N steps (smoke runs)")
    ap.add_argument("--all", action="store_true", help="train on the development split too (final model)")
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    import optax

    watchlist = load_watchlist(None)
    rows = corpus_mod.training_rows(ROOT)
    print(f"training rows: {len(rows)}", flush=True)
    tok = encoder.Tokenizer(args.max_length)

    def pair(r: dict) -> tuple[str, str]:
        fig, top = watchlist.by_figure[r["actor"]], watchlist.by_topic[r["topic"]]
        return first_segment(fig.name, top.label, top.support), second_segment(r["sentence"], r["context"])

    dev = [r for r in rows if corpus_mod.in_dev_split(r["sentence"], args.dev_percent)]
    train = rows if args.all else [r for r in rows if not corpus_mod.in_dev_split(r["sentence"], args.dev_percent)]
    print(f"train {len(train)}  dev {len(dev)}", flush=True)

    base = {k: jnp.asarray(v) for k, v in encoder.load_base().items() if k != "embeddings.position_ids"}
    rng = np.random.default_rng(args.seed)
    scale = 2.0  # alpha / rank with alpha = 2 * rank
    adapter: dict[str, np.ndarray] = {}
    for i in range(encoder.LAYERS):
        for name in encoder.ADAPTED:
            w = base[f"encoder.layer.{i}.{name}.weight"]
            out_dim, in_dim = w.shape
            adapter[f"encoder.layer.{i}.{name}.lora_a"] = rng.normal(0, 1 / math.sqrt(in_dim), (args.rank, in_dim))
            adapter[f"encoder.layer.{i}.{name}.lora_b"] = np.zeros((out_dim, args.rank))
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            adapter[f"encoder.layer.{i}.{ln}.weight"] = np.asarray(base[f"encoder.layer.{i}.{ln}.weight"])
            adapter[f"encoder.layer.{i}.{ln}.bias"] = np.asarray(base[f"encoder.layer.{i}.{ln}.bias"])
    adapter["head.dense.weight"] = rng.normal(0, 0.02, (encoder.HIDDEN, encoder.HIDDEN))
    adapter["head.dense.bias"] = np.zeros(encoder.HIDDEN)
    adapter["head.out.weight"] = rng.normal(0, 0.02, (len(LABELS), encoder.HIDDEN))
    adapter["head.out.bias"] = np.zeros(len(LABELS))
    params = {k: jnp.asarray(v, jnp.float32) for k, v in adapter.items()}

    def logits_fn(params, ids, types, mask):
        pooled = encoder.encode(jnp, base, ids, types, mask, params, scale)
        return encoder.head(jnp, params, pooled)

    def loss_fn(params, ids, types, mask, y):
        logits = logits_fn(params, ids, types, mask)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    steps_per_epoch = math.ceil(len(train) / args.batch)
    total = int(steps_per_epoch * args.epochs)
    if args.limit_steps:
        total = min(total, args.limit_steps)
    sched = optax.warmup_cosine_decay_schedule(0.0, args.lr, max(1, total // 16), total, args.lr * 0.02)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(sched, weight_decay=0.01))
    state = opt.init(params)

    @jax.jit
    def step(params, state, ids, types, mask, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, ids, types, mask, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    predict = jax.jit(logits_fn)
    label_of = {name: n for n, name in enumerate(LABELS)}

    def batches(data: list[dict], shuffle: bool):
        enc = tok._tok.encode_batch([pair(r) for r in data])
        lengths = np.array([len(e.ids) for e in enc])
        order = np.argsort(lengths, kind="stable")
        chunks = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
        if shuffle:
            rng.shuffle(chunks)
        for chunk in chunks:
            b = tok.encode([pair(data[j]) for j in chunk])
            y = np.array([label_of[data[j]["label"]] for j in chunk], np.int32)
            yield chunk, b, y

    t0, n = time.time(), 0
    done = False
    while not done:
        for _, b, y in batches(train, shuffle=True):
            params, state, loss = step(params, state, b.ids, b.types, b.mask, y)
            n += 1
            if n % 25 == 0:
                print(f"step {n}/{total} loss {float(loss):.4f} {time.time() - t0:.0f}s", flush=True)
            if n >= total:
                done = True
                break

    out_logits = np.zeros((len(dev), len(LABELS)), np.float64)
    for chunk, b, _ in batches(dev, shuffle=False):
        out_logits[chunk] = np.asarray(predict(params, b.ids, b.types, b.mask))
    gold = np.array([label_of[r["label"]] for r in dev])
    temperature = fit_temperature(out_logits, gold)
    report = dev_report(out_logits / temperature, gold, dev)
    report.update(
        {
            "temperature": temperature,
            "train_rows": len(train),
            "dev_rows": len(dev),
            "steps": n,
            "seconds": round(time.time() - t0),
            "seed": args.seed,
            "rank": args.rank,
            "epochs": args.epochs,
            "lr": args.lr,
            "max_length": args.max_length,
            "all": args.all,
        }
    )
    print(json.dumps(report, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v, np.float32) for k, v in params.items()}
    arrays["temperature"] = np.array([temperature], np.float32)
    arrays["lora_scale"] = np.array([scale], np.float32)
    np.savez_compressed(args.out, **arrays)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature that minimises the development split's negative log-likelihood (grid search)."""
    best, best_t = float("inf"), 1.0
    for t in np.arange(0.5, 4.01, 0.05):
        z = logits / t
        z = z - z.max(1, keepdims=True)
        nll = -(z[np.arange(len(gold)), gold] - np.log(np.exp(z).sum(1))).mean()
        if nll < best:
            best, best_t = nll, float(round(t, 2))
    return best_t


def dev_report(logits: np.ndarray, gold: np.ndarray, rows: list[dict]) -> dict:
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    pred = p.argmax(1)
    conf = p.max(1)
    bins = np.linspace(0, 1, 11)
    ece = 0.0
    for lo, hi in itertools.pairwise(bins):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs((pred[m] == gold[m]).mean() - conf[m].mean())
    polar = np.isin(gold, [0, 1]) & np.isin(pred, [0, 1])
    return {
        "accuracy": round(float((pred == gold).mean()), 4),
        "ece": round(float(ece), 4),
        "polarity_accuracy_on_polar_pairs": round(float((pred[polar] == gold[polar]).mean()), 4)
        if polar.any()
        else None,
        "per_label": {
            LABELS[k]: {
                "precision": round(float(((pred == k) & (gold == k)).sum() / max(1, (pred == k).sum())), 4),
                "recall": round(float(((pred == k) & (gold == k)).sum() / max(1, (gold == k).sum())), 4),
            }
            for k in range(len(LABELS))
        },
    }


if __name__ == "__main__":
    raise SystemExit(main())
