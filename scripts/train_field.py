"""Fit the field model: is a question about machine learning at all? (bot/glossary/field.py)

    python scripts/train_field.py                      # for the bundled (fine-tuned) model
    python scripts/train_field.py --model bundled-base # for the base model
    python scripts/train_field.py --folds-dir runs/    # one per cross-validation fold model

Runs in the bot's own environment (numpy and the embedding model; no training extras), in a
minute or two on 2 cores, and writes data/field/<model>.json. With --folds-dir, it writes
runs/fold<K>/field/fold.json, fitted on the vectors of the model that did not see fold K's
development questions, for scripts/train_ranker.py to cross-validate the search with.

In the field: every answerable training question (data/train/, about 11,000), the training
set's machine-learning questions the glossary lacks (`adjacent`), and "what is <term>" for every
entry. Outside it: the training set's `collision` and `offtopic` questions and
data/train/other_fields.jsonl (questions from other walks of life, many using an entry's name
in its everyday sense; its maths and statistics ones are left out, as the glossary has Hessian,
Euler method and MSE). The evaluation sets (data/eval/) are never read: they judge the model.

The model is a logistic regression over the unit query vector and the question's best cosine
with an entry's whole text (as data/index.db holds them for this model), class-balanced,
its L2 strength picked by 5-fold cross-validation with folds split by entry or field. `outside_at`
is set from the same folds: the lowest probability at which at most OUTSIDE_ML_SHARE of the
held-out machine-learning questions would be hedged, counting only questions the embedding
model was never fine-tuned on (a fine-tuned-on question sits closer to its entry than a new one
would), and never below 0.5.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.glossary.embeddings import BUNDLED, BUNDLED_BASE, FastEmbedEmbedder  # noqa: E402
from bot.glossary.field import FIELD_DIR, FORMAT  # noqa: E402
from bot.glossary.index import build_index  # noqa: E402
from bot.glossary.normalize import plain_and_core  # noqa: E402
from bot.glossary.parse import parse_file  # noqa: E402
from bot.glossary.store import GlossaryIndex  # noqa: E402

TRAIN = ROOT / "data" / "train"
ROUNDS = ("generated.jsonl", "generated2.jsonl", "generated3.jsonl", "named.jsonl", "mined.jsonl",
          "identifiers.jsonl")
OTHER_FIELDS = TRAIN / "other_fields.jsonl"
# Questions the shipped embedding model was never fine-tuned on (scripts/finetune_model.py reads
# generated.jsonl): their vectors are what a new question's look like, so the threshold is set on
# them. On the fine-tuned-on ones it would come out too low and hedge fresh ML questions.
UNSEEN_BY_MODEL = ("generated2.jsonl", "generated3.jsonl", "named.jsonl", "identifiers.jsonl")
OUTSIDE_STYLES = ("collision", "offtopic")
# The glossary has Hessian, Euler method, Derivative and MSE: a maths or statistics question is
# often about one of its entries, so those topics are not taught as outside the field.
INSIDE_TOPICS = ("math", "statistics")
FOLDS = 5
STRENGTHS = (0.000001, 0.000003, 0.00001, 0.00003, 0.0001, 0.0003, 0.001)
OUTSIDE_ML_SHARE = 0.002  # 2 in 1,000 machine-learning questions offered rather than answered
SEED = 7


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def texts_and_labels() -> tuple[list[str], np.ndarray, list[str], np.ndarray, dict]:
    """Questions, 1 if outside the field, their groups and whether the embedding model never saw
    them, deduplicated on the text the search embeds.

    The group keeps what one writer asked about together in the cross-validation folds: an
    entry's questions, a field's questions, one writer's batch of collisions or chit-chat."""
    inside, outside = [], []
    for name in ROUNDS:
        for row in read(TRAIN / name):
            if row["expected"]:
                inside.append((row["query"], "term:" + row["expected"][0].lower(), name in UNSEEN_BY_MODEL))
            elif row.get("style") == "adjacent":
                inside.append((row["query"], "adjacent:" + row["id"], name in UNSEEN_BY_MODEL))
            elif row.get("style") in OUTSIDE_STYLES:
                outside.append((row["query"], f"{name}:{row['style']}:{row['id']}", False))
    inside += [(f"what is {entry.term}", "term:" + entry.term.lower(), False)
               for entry in parse_file(ROOT / "data" / "glossary.txt").entries]
    outside += [(row["query"], "topic:" + row["topic"], False) for row in read(OTHER_FIELDS)
                if row["topic"] not in INSIDE_TOPICS]
    seen: dict[str, tuple[int, str, bool]] = {}
    for label, rows in ((0, inside), (1, outside)):
        for text, group, unseen in rows:
            core = plain_and_core(text)[1]
            if core:
                seen.setdefault(core, (label, group, unseen))
    texts = list(seen)
    labels = np.array([seen[t][0] for t in texts], dtype=np.float64)
    groups = [seen[t][1] for t in texts]
    unseen = np.array([seen[t][2] for t in texts])
    return texts, labels, groups, unseen, {"inside": int((labels == 0).sum()), "outside": int((labels == 1).sum())}


def fit(X: np.ndarray, y: np.ndarray, strength: float, iterations: int = 30) -> np.ndarray:
    """Class-balanced L2 logistic regression by Newton's method; weights with the bias last."""
    A = np.hstack([X, np.ones((len(X), 1))])
    weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    penalty = strength * len(X) * np.eye(A.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    w = np.zeros(A.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(A @ w)))
        grad = A.T @ (weight * (p - y)) + penalty @ w
        hess = (A * (weight * p * (1 - p))[:, None]).T @ A + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(X @ w[:-1] + w[-1])))


def out_of_fold(X: np.ndarray, y: np.ndarray, strength: float, folds: np.ndarray) -> np.ndarray:
    p = np.empty(len(y))
    for k in range(FOLDS):
        test = folds == k
        p[test] = predict(X[test], fit(X[~test], y[~test], strength))
    return p


def balanced_log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-(np.log(p[y == 1]).mean() + np.log(1 - p[y == 0]).mean()) / 2)


def nearest_entry(X: np.ndarray, embedder) -> np.ndarray:
    """Each question's best cosine with an entry's whole text, as the search computes it: from
    data/index.db when it was built with this model, else from an index built for the purpose."""
    with tempfile.TemporaryDirectory() as workdir:
        path = ROOT / "data" / "index.db"
        index = GlossaryIndex(path) if path.exists() else None
        if index is None or index.model_id != embedder.model_id:
            if index is not None:
                index.close()
            print("building an index with this model…", file=sys.stderr)
            path = Path(workdir) / "index.db"
            build_index(path, ROOT / "data" / "glossary.txt", embedder)
            index = GlossaryIndex(path)
        full = index.vectors["full"].astype(np.float64)
        index.close()
    return (X @ full.T).max(axis=1)


def fit_field(embedder) -> tuple[dict, str]:
    """The field model for this embedding model's vectors, and a line saying how it did."""
    texts, y, groups, unseen, counts = texts_and_labels()
    print(f"{len(texts)} questions ({counts['inside']} in the field, {counts['outside']} outside); embedding…",
          file=sys.stderr)
    vectors = embedder.embed_documents(texts).astype(np.float64)
    X = np.hstack([vectors, nearest_entry(vectors, embedder)[:, None]])
    # Folds by group, so no entry or field is both trained on and judged.
    names = sorted(set(groups))
    fold_of = dict(zip(names, np.random.default_rng(SEED).integers(0, FOLDS, len(names))))
    folds = np.array([fold_of[g] for g in groups])
    losses = {s: balanced_log_loss(out_of_fold(X, y, s, folds), y) for s in STRENGTHS}
    strength = min(losses, key=losses.get)
    p = out_of_fold(X, y, strength, folds)
    inside_p = np.sort(p[(y == 0) & unseen])
    allowed = int(np.floor(OUTSIDE_ML_SHARE * len(inside_p)))
    outside_at = max(0.5, float(inside_p[len(inside_p) - allowed - 1]) + 1e-6)
    caught = float((p[y == 1] >= outside_at).mean())
    hedged = float((p[(y == 0) & unseen] >= outside_at).mean())
    w = fit(X, y, strength)
    report = {
        "format": FORMAT,
        "model_id": embedder.model_id,
        "coef": [round(float(v), 6) for v in w[:-2]],
        "nearest_coef": round(float(w[-2]), 6),
        "intercept": round(float(w[-1]), 6),
        "outside_at": round(outside_at, 6),
        "info": {
            "trained_on": counts, "strength": strength,
            "cross_validated": {"log_loss_by_strength": {str(k): round(v, 4) for k, v in losses.items()},
                                "outside_caught": round(caught, 4), "inside_taken_outside": round(hedged, 4)},
        },
    }
    return report, (f"strength {strength}; cross-validated: {caught:.1%} of outside questions caught, "
                    f"{hedged:.2%} of machine-learning ones taken as outside at {outside_at:.3f}")


def write(report: dict, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=BUNDLED, choices=(BUNDLED, BUNDLED_BASE))
    parser.add_argument("--folds-dir", type=Path,
                        help="folder with fold0/ … fold4/ (scripts/finetune_model.py --hold-out-fold): fit one "
                             "field model per fold model instead")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.folds_dir is None:
        embedder = FastEmbedEmbedder.load(args.model, tokenizer_dir=ROOT / "data" / "model",
                                          cache_dir=ROOT / "data" / "cache")
        jobs = [(embedder, FIELD_DIR / f"{args.model}.json")]
    else:
        # train_ranker's loader, so each model id is the one its cross-validation searches with
        from scripts.train_ranker import FOLDS as RANKER_FOLDS, fold_field_dir, fold_model_path, load_embedder

        missing = [str(path) for k in range(RANKER_FOLDS) if not (path := fold_model_path(args.folds_dir, k)).exists()]
        if missing:
            sys.exit(f"no fold model at {', '.join(missing)}: `make train-folds` makes them")
        # one model loaded at a time
        jobs = ((load_embedder(fold_model_path(args.folds_dir, k)), fold_field_dir(args.folds_dir, k) / "fold.json")
                for k in range(RANKER_FOLDS))
    for embedder, target in jobs:
        report, summary = fit_field(embedder)
        write(report, target)
        print(f"{summary}; wrote {target} after {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
