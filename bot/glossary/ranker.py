"""The learned ranker: candidate features → scores → how sure we are, in numpy.

A ranker is data, not code: a JSON file in `data/ranker/` written by
`scripts/train_ranker.py`, holding
- gradient-boosted trees (LightGBM lambdarank, flattened into arrays) that score
  each candidate from its FEATURES row;
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexError_
from .features import FEATURES

FORMAT = 2  # 2: the calibration counts twins together
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
)
_F = {name: i for i, name in enumerate(FEATURES)}


def softmax(scores: np.ndarray) -> np.ndarray:
    e = np.exp(scores - scores.max())
    return e / e.sum()


def calibration_row(scores: np.ndarray, features: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The question-level evidence the calibration weighs (CALIBRATION_FEATURES), from one
    question's candidate scores, FEATURES rows and twin groups (features.Candidates.groups):
    the best candidate's twins count with it, not against it."""
    order = np.argsort(-scores, kind="stable")
    top = order[0]
    rivals = scores[groups != groups[top]]
    second = rivals.max() if len(rivals) else scores[top] - 10.0
    row = features[top]
    return np.array([
        scores[top], scores[top] - second, softmax(scores)[groups == groups[top]].sum(),
        row[_F["dense_full"]], row[_F["dense_lead"]], row[_F["bm25"]], row[_F["named"]],
        row[_F["query_in_entry"]], row[_F["unknown_share"]], row[_F["query_words"]],
    ], dtype=np.float64)


@dataclass(frozen=True)
class Trees:
    """A forest as padded arrays, leaves included as nodes that lead to themselves: node n
    of tree t sends a row left when its feature[t, n] <= threshold[t, n]; after `depth`
    steps every row sits on a leaf, whose value[t, n] is that tree's score."""

    feature: np.ndarray    # (trees, nodes) int
    threshold: np.ndarray  # (trees, nodes) float32; +inf on leaves
    left: np.ndarray       # (trees, nodes) int
    right: np.ndarray
    value: np.ndarray      # (trees, nodes) float32; 0 on inner nodes
    depth: int

    def predict(self, X: np.ndarray) -> np.ndarray:
        goes_left = X[:, self.feature] <= self.threshold  # (rows, trees, nodes): every comparison at once
        rows = np.arange(len(X))[:, None]
        trees = np.arange(len(self.feature))[None, :]
        node = np.zeros((len(X), len(self.feature)), dtype=np.int64)
        for _ in range(self.depth):
            node = np.where(goes_left[rows, trees, node], self.left[trees, node], self.right[trees, node])
        return self.value[trees, node].sum(axis=1)

    @classmethod
    def from_json(cls, trees: list[dict]) -> Trees:
        """From the file's form: per tree, inner nodes' feature/threshold/left/right, where a
        child < 0 is leaf ~child, and the leaves' values."""
        width = max(len(t["feature"]) + len(t["leaf_value"]) for t in trees)
        shape = (len(trees), width)
        feature, left, right = (np.zeros(shape, dtype=np.int64) for _ in range(3))
        threshold = np.full(shape, np.inf, dtype=np.float32)
        value = np.zeros(shape, dtype=np.float32)
        for t, tree in enumerate(trees):
            inner = len(tree["feature"])
            leaves = inner + np.arange(len(tree["leaf_value"]))
            left[t], right[t] = np.arange(width), np.arange(width)  # leaves (and padding) stay put
            if inner:
                feature[t, :inner], threshold[t, :inner] = tree["feature"], tree["threshold"]
                for children, out in ((tree["left"], left), (tree["right"], right)):
                    kids = np.asarray(children, dtype=np.int64)
                    out[t, :inner] = np.where(kids < 0, inner + ~kids, kids)
            else:  # a lone leaf: node 0 is it
                leaves = np.arange(len(tree["leaf_value"]))
            value[t, leaves] = tree["leaf_value"]
        return cls(feature, threshold, left, right, value, depth=max(t["depth"] for t in trees))


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

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self.trees.predict(features.astype(np.float32, copy=False))

    def confidence(self, scores: np.ndarray, features: np.ndarray, groups: np.ndarray) -> float:
        """Probability that the best-scored candidate is the right entry."""
        z = float(calibration_row(scores, features, groups) @ self.calibration_coef + self.calibration_intercept)
        return float(1.0 / (1.0 + np.exp(-z)))

    @classmethod
    def from_dict(cls, data: dict, name: str = "ranker") -> Ranker:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        if tuple(data["features"]) != FEATURES:
            raise ValueError("trained on other features than this version computes")
        if tuple(data["calibration"]["features"]) != CALIBRATION_FEATURES:
            raise ValueError("calibrated on other evidence than this version computes")
        return cls(
            name=name,
            model_id=data["model_id"],
            trees=Trees.from_json(data["trees"]),
            calibration_coef=np.asarray(data["calibration"]["coef"], dtype=np.float64),
            calibration_intercept=float(data["calibration"]["intercept"]),
            answer_at=float(data["bands"]["answer_at"]),
            suggest_at=float(data["bands"]["suggest_at"]),
            close_share=float(data["bands"]["close_share"]),
            info=data.get("info", {}),
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
