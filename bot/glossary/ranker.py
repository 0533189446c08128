"""The learned ranker: candidate features → scores → how sure we are, in numpy.

A ranker is data, not code: a JSON file in `data/ranker/` written by
`scripts/train_ranker.py`, holding
- gradient-boosted trees (LightGBM lambdarank, flattened into arrays) that score
  each candidate from its FEATURES row; optionally a second forest trained on real
  questions alone and the style (style.py) that says how much a question reads as one,
  by which share its scores are mixed in (`mixed_scores`);
- a logistic calibration that turns the scores of one question's candidates into
  the probability that the best one is right (fitted on cross-validated scores,
  so it knows how often the ranker is wrong on questions it never saw);
- the bands set from that probability by cross-validation: `answer` when it is at
  least `answer_at` (an answer should be right 95% of the time), `suggest` from
  `suggest_at`, otherwise not covered; and `close_share`, from which another
  candidate is worth showing beside the best.

Each file names the embedding model whose cosines it was trained on; a ranker
scores other models' cosines too, but less well (the search logs a warning).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexError_
from .features import FEATURES
from .style import Style

FORMAT = 5  # 2: the calibration counts twins together; 3: and weighs the bank (bank.py); 4: the sentences that
# ask; 5: the entries' practitioner vocabulary (vocabulary.py)
# Features are only ever appended. A ranker of an earlier format, trained on the features of its day,
# still scores: it reads the columns it knows, by position, and ignores the ones added since.
_EARLIER_FEATURES = {3: FEATURES[: FEATURES.index("bm25_focus")], 4: FEATURES[: FEATURES.index("vocabulary")]}
RANKER_DIR = Path(__file__).resolve().parents[2] / "data" / "ranker"

CALIBRATION_FEATURES = (
    "top_score",       # the best candidate's ranker score
    "margin",          # … minus the best score of a candidate that is not its twin
    "top_share",       # softmax share of the best and its twins among all candidates
    "top_dense_full",  # the best candidate's cosine with the question
    "top_dense_lead",
    "top_bm25",
    "top_named",       # the question names the best candidate
    "top_query_in_entry",
    "unknown_share",   # share of the question's words the glossary never uses
    "query_words",
    "top_bank_max",    # the best candidate's cosine with the nearest bank question about it
    "top_bank_gap",    # … minus the best of that among all candidates
)
_F = {name: i for i, name in enumerate(FEATURES)}
# Below this share of a question reading as a real one, its real questions' forest is not walked,
# which spares /ask a second walk for 95% of written questions (and, with vocabulary_only_real,
# the vocabulary's work). Cross-validated over five ranker seeds with the vocabulary read by every
# tree and question (before vocabulary_only_real), written / real hit@1 and answers outright of
# 570: from 0.2 up 0.868 / 0.782, 218; from 0.01 up 0.867 / 0.790, 226 (one real question more, a
# written one fewer in ten seeds' worth).
REAL_SHARE_MIN = 0.2
# From this share up a question is answered outright only from the real trees' own threshold
# (answer_at_real); between REAL_SHARE_MIN and it, from the general one. The written questions that
# read a little real are mostly questions that name their entry with digits, capitals or brackets
# ("(2+1)D", "3D conv"): on the fresh sets, at a share of 0.2–0.35 the general threshold's answers
# were all right (mentions 61 of 61, data/eval/reworded.jsonl 28 of 28, no off-glossary question
# got that far), where the real threshold (0.903 then) let through 51 and 11 of them.
REAL_ANSWER_SHARE_MIN = 0.35
# A short question that types code ("HeunDiscreteScheduler is 2x slower per step, why",
# "num_key_value_heads=8 but num_attention_heads=32") reads at least this real: the style learnt from
# real questions longer and tidier than such pastes, and rated these 0.01–0.13. Cross-validated over
# five ranker seeds it moves nothing (written / real hit@1 0.870 / 0.800 both ways), nor the sets
# never trained on; of a seventh new-user session's 41 flag-and-class questions it puts 3 more right
# entries first (33 → 36). For every length it cost written questions that paste code in a longer
# story (0.870 → 0.867), so only short ones.
CODE_SHARE = 0.5
CODE_SHARE_MAX_WORDS = 12
# Code as practitioners type it: a flag, a snake_case name, a call of a name three letters or longer,
# a dotted module path, a class name of three capitalised words and ten letters or more (not MuJoCo).
_CODE_TYPED = re.compile(r"(?<![\w.-])(?:--[a-z][\w-]*|[A-Za-z]\w*_\w*[A-Za-z0-9]|\w{3,}(?:\.\w+)*\(|\w+\.\w+\.\w+"
                         r"|(?=\w{10})[A-Z][a-z]+(?:[A-Z][a-z0-9]+){2,})")


def softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max())
    return e / e.sum()


def mixed_scores(general: np.ndarray, real: np.ndarray, share: float) -> np.ndarray:
    """The two forests' scores weighed by the share of the question reading as a real one. Scores,
    not their softmax shares, so that a written question keeps the evidence the calibration reads
    in how high its best score is (mixing shares ranked the same and answered a seventh fewer
    questions outright)."""
    return share * real + (1.0 - share) * general


def calibration_row(scores: np.ndarray, features: np.ndarray, groups: np.ndarray,
                    top: int | None = None, shares: np.ndarray | None = None) -> np.ndarray:
    """The question-level evidence the calibration weighs (CALIBRATION_FEATURES), from one
    question's candidate scores, FEATURES rows and twin groups (features.Candidates.groups):
    the best candidate's twins count with it, not against it. `top` (the first best score's
    row) and `shares` (softmax(scores)): given when the caller has them already."""
    top = int(np.argmax(scores)) if top is None else top  # argmax: the first of equal bests, as a stable sort
    shares = softmax(scores) if shares is None else shares
    rivals = scores[groups != groups[top]]
    second = rivals.max() if len(rivals) else scores[top] - 10.0
    row = features[top]
    return np.array([
        scores[top], scores[top] - second, shares[groups == groups[top]].sum(),
        row[_F["dense_full"]], row[_F["dense_lead"]], row[_F["bm25"]], row[_F["named"]],
        row[_F["query_in_entry"]], row[_F["unknown_share"]], row[_F["query_words"]],
        row[_F["bank_max"]], row[_F["bank_gap"]],
    ], dtype=np.float64)


@dataclass(frozen=True)
class Trees:
    """A forest as complete binary trees of one depth, in heap order: inner node h of tree t
    (0 ≤ h < 2**depth - 1) sends a row to child 2h+1 when feature[t, h] <= threshold[t, h],
    else to 2h+2; the nodes below the last inner level are the leaves, value[t, leaf].
    A leaf that sits higher up in the file's tree is copied down, behind +inf thresholds.

    Every row walks every tree at once, one level per step, with flat 1-D takes: on the
    /ask path this is 3–4× faster than comparing every node up front or 2-D indexing."""

    feature: np.ndarray    # (trees, 2**depth - 1) int64
    threshold: np.ndarray  # (trees, 2**depth - 1) float32
    value: np.ndarray      # (trees, 2**depth) float32
    depth: int

    def __post_init__(self) -> None:
        # The inner nodes again, level by level across the trees: level l holds tree t's i-th node
        # of that level at trees * (2**l - 1) + t * 2**l + i, so its children are at twice that
        # plus trees (left) and one more (right), and the leaves' numbering is the values' own.
        # A step down is then two numpy calls fewer, the leaves three (each dearer right after the
        # model has run).
        levels = [slice(2**level - 1, 2**(level + 1) - 1) for level in range(self.depth)]
        object.__setattr__(self, "_level_feature", np.concatenate(
            [self.feature[:, at].ravel() for at in levels] or [np.zeros(0, dtype=np.int64)]))
        object.__setattr__(self, "_level_threshold", np.concatenate(
            [self.threshold[:, at].ravel() for at in levels] or [np.zeros(0, dtype=np.float32)]))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.leaf_values(X).sum(axis=1)

    def leaf_values(self, X: np.ndarray) -> np.ndarray:
        """Each row's leaf value in each tree: (rows, trees)."""
        n_trees = len(self.feature)
        X = np.ascontiguousarray(X, dtype=np.float32)
        row_base = (np.arange(len(X)) * X.shape[1])[:, None]
        node = np.broadcast_to(np.arange(n_trees), (len(X), n_trees))  # each tree's root
        for _ in range(self.depth):
            left = X.take(row_base + self._level_feature.take(node)) <= self._level_threshold.take(node)
            node = 2 * node + (n_trees + 1) - left  # (a NaN goes right, as it did)
        return self.value.ravel().take(node - n_trees * (2**self.depth - 1))

    @classmethod
    def from_json(cls, trees: list[dict]) -> Trees:
        """From the file's form: per tree, inner nodes' feature/threshold/left/right, where a
        child < 0 is leaf ~child, and the leaves' values."""
        depth = max(t["depth"] for t in trees)
        inner = 2**depth - 1
        feature = np.zeros((len(trees), max(inner, 1)), dtype=np.int64)
        threshold = np.full((len(trees), max(inner, 1)), np.inf, dtype=np.float32)
        value = np.zeros((len(trees), inner + 1), dtype=np.float32)
        for t, tree in enumerate(trees):
            # (file node or ~leaf, heap position, level), from the root down
            stack = [(0 if tree["feature"] else ~0, 0, 0)]
            while stack:
                node, heap, level = stack.pop()
                if level == depth:
                    value[t, heap - inner] = tree["leaf_value"][~node]
                elif node < 0:  # a leaf above the bottom: both children are it
                    stack += [(node, 2 * heap + 1, level + 1), (node, 2 * heap + 2, level + 1)]
                else:
                    feature[t, heap], threshold[t, heap] = tree["feature"][node], tree["threshold"][node]
                    stack += [(tree["left"][node], 2 * heap + 1, level + 1),
                              (tree["right"][node], 2 * heap + 2, level + 1)]
        return cls(feature, threshold, value, depth)


def _joined(one: Trees, other: Trees, trees: list[dict]) -> Trees:
    """Two forests as one, the first's trees first (Ranker.both); `trees`: both as in the file."""
    if one.depth != other.depth or one.feature.shape[1] != other.feature.shape[1]:
        return Trees.from_json(trees)  # one depth for all: built again, the shallower copied down
    return Trees(np.concatenate([one.feature, other.feature]), np.concatenate([one.threshold, other.threshold]),
                 np.concatenate([one.value, other.value]), one.depth)


@dataclass(frozen=True)
class Ranker:
    name: str
    model_id: str
    trees: Trees
    calibration_coef: np.ndarray
    calibration_intercept: float
    answer_at: float
    suggest_at: float
    close_share: float
    info: dict
    trained_on: tuple[str, ...] = FEATURES  # the features its trees read: an earlier format's are fewer

    @property
    def reads_vocabulary(self) -> bool:
        """Whether it was trained with the entries' vocabulary (vocabulary.py): one that was not is
        given the candidates it was trained on, without the vocabulary's."""
        return "vocabulary" in self.trained_on

    # Trees trained on real questions alone, and the style that says how much a question reads as
    # one (style.py); with them, a candidate's score is the two forests' scores so weighed.
    real_trees: Trees | None = None
    style: Style | None = None
    both: Trees | None = None  # the two forests as one, walked once when both are needed
    # Only the real questions' trees read the vocabulary, so a question that does not read as a
    # real one is searched without its candidates and features, as the general trees were trained.
    vocabulary_only_real: bool = False
    # The answer threshold for a question its real trees are weighed in for: their scores are
    # surer than the general trees' in another measure, and one threshold over both, set by the
    # few off-glossary real questions they answer, withheld a tenth of the written answers.
    answer_at_real: float | None = None

    def answer_at_for(self, share: float) -> float:
        """The confidence from which a question of this real share is answered outright."""
        real = self.answer_at_real is not None and self.both is not None and share >= REAL_ANSWER_SHARE_MIN
        return self.answer_at_real if real else self.answer_at

    def real_share(self, text: str) -> float:
        """How much the question reads as a real one (style.py); 0 for a ranker without real trees.
        A question that types code (`enforce_eager`, `--max-model-len`, `HeunDiscreteScheduler`,
        `torch.compile(`) reads at least CODE_SHARE real, however short: the style learnt from
        real questions that are longer and tidier than the short pastes people type."""
        if self.style is None or self.real_trees is None:
            return 0.0
        share = self.style.real_share(text)
        short = len(text.split()) <= CODE_SHARE_MAX_WORDS
        return CODE_SHARE if share < CODE_SHARE and short and _CODE_TYPED.search(text) else share

    def vocabulary_for(self, share: float) -> bool:
        """Whether a question of this real share is searched with the entries' vocabulary."""
        return self.reads_vocabulary and (not self.vocabulary_only_real or share >= REAL_SHARE_MIN)

    def scores(self, features: np.ndarray, share: float = 0.0) -> np.ndarray:
        """Per candidate, higher is better; `share`: how much the question reads as a real one
        (real_share), by which the real questions' trees are weighed in."""
        X = features.astype(np.float32, copy=False)
        if share < REAL_SHARE_MIN or self.both is None:
            return self.trees.predict(X)
        values = self.both.leaf_values(X)
        general = len(self.trees.feature)
        return mixed_scores(values[:, :general].sum(axis=1), values[:, general:].sum(axis=1), share)

    def confidence(self, scores: np.ndarray, features: np.ndarray, groups: np.ndarray,
                   top: int | None = None, shares: np.ndarray | None = None) -> float:
        """Probability that the best-scored candidate is the right entry (`top`, `shares`: as for
        calibration_row)."""
        row = calibration_row(scores, features, groups, top, shares)
        z = float(row @ self.calibration_coef + self.calibration_intercept)
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    @classmethod
    def from_dict(cls, data: dict, name: str = "ranker") -> Ranker:
        fmt, trained_on = data.get("format"), tuple(data["features"])
        if fmt != FORMAT and fmt not in _EARLIER_FEATURES:
            raise ValueError(f"format {fmt!r}, expected {FORMAT}")
        if trained_on != (FEATURES if fmt == FORMAT else _EARLIER_FEATURES[fmt]):
            raise ValueError("trained on other features than this version computes")
        if any(f >= len(trained_on) for tree in [*data["trees"], *(data.get("real_trees") or [])]
               for f in tree["feature"]):
            raise ValueError("a tree reads a feature its list does not name")
        if tuple(data["calibration"]["features"]) != CALIBRATION_FEATURES:
            raise ValueError("calibrated on other evidence than this version computes")
        trees = Trees.from_json(data["trees"])
        real_trees = Trees.from_json(data["real_trees"]) if data.get("real_trees") else None
        return cls(
            name=name,
            model_id=data["model_id"],
            trees=trees,
            calibration_coef=np.asarray(data["calibration"]["coef"], dtype=np.float64),
            calibration_intercept=float(data["calibration"]["intercept"]),
            answer_at=float(data["bands"]["answer_at"]),
            suggest_at=float(data["bands"]["suggest_at"]),
            close_share=float(data["bands"]["close_share"]),
            info=data.get("info", {}),
            trained_on=trained_on,
            real_trees=real_trees,
            style=Style.from_dict(data["style"]) if data.get("style") else None,
            both=_joined(trees, real_trees, data["trees"] + data["real_trees"]) if real_trees else None,
            vocabulary_only_real=bool(data.get("vocabulary_only_real")),
            answer_at_real=float(data["bands"]["answer_at_real"]) if "answer_at_real" in data["bands"] else None,
        )

    @classmethod
    def load(cls, path: Path) -> Ranker:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")), Path(path).stem)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexError_(f"cannot load the ranker {path}: {exc} (restore data/ranker/ from the repository)") \
                from None


def ranker_for(model_id: str, directory: Path = RANKER_DIR) -> tuple[Ranker, bool]:
    """The ranker trained on this embedding model's cosines, or the default one;
    the flag says whether it matches the model."""
    default = None
    for path in sorted(directory.glob("*.json")):
        ranker = Ranker.load(path)
        if ranker.model_id == model_id:
            return ranker, True
        if ranker.info.get("default"):
            default = ranker
    if default is None:
        raise IndexError_(f"no ranker in {directory} (restore data/ranker/ from the repository)")
    return default, False
