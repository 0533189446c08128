"""How much a question reads like one typed into a GitHub issue rather than written for a study set.

Real questions ("why the value of k is fixed to 60? in RRF.", a pasted flag, a stack of "I tried …")
and written ones ("what's the trick where you recompute activations to save memory?") name their
entries in opposite ways, and one ranker trained on both serves the written ones, which are most of
its training. So the ranker (ranker.py) also holds trees trained on real questions alone, and mixes
the two by this share: a logistic regression over the question's hashed words and word pairs and a
few shapes of its text (length, code characters, digits, capitals, question marks), fitted by
scripts/train_ranker.py on the training questions' kind (real or written). Pure Python and numpy:
a few tens of microseconds a question.
"""

from __future__ import annotations

import base64
import math
import re
import zlib
from array import array
from dataclasses import dataclass

import numpy as np

DIM = 2**14  # hashed word and word-pair buckets; the shapes follow them
SHAPES = 8
_TOKEN = re.compile(r"\w+|[^\w\s]")
_CODE = frozenset("_`()[]{}=<>/\\")


def _buckets(text: str) -> tuple[list[int], float]:
    """The hashed buckets of the question's words and word pairs (repeats repeated), and the value
    each adds: one over the square root of the word count."""
    tokens = _TOKEN.findall(text.lower())
    grams = [*tokens, *map(" ".join, zip(tokens, tokens[1:]))]
    # surrogatepass: a lone surrogate pasted into Discord is a character like any other here
    return [zlib.crc32(g.encode("utf-8", "surrogatepass")) % DIM for g in grams], 1.0 / math.sqrt(max(len(tokens), 1))


def _shapes(text: str) -> list[float]:
    chars = max(len(text), 1)
    return [
        math.log1p(len(text)) / 5,
        10 * sum(map(_CODE.__contains__, text)) / chars,
        10 * sum(map(str.isdigit, text)) / chars,
        10 * sum(map(str.isupper, text)) / chars,
        text.count("?") / 3,
        float(text[:1].islower()),
        float("\n" in text),
        float(text.rstrip().endswith("?")),
    ]


def style_features(text: str) -> dict[int, float]:
    """Sparse features of a question's style, bucket → value (for training: Style.real_share
    computes the same sum without them)."""
    buckets, value = _buckets(text)
    found, counts = np.unique(np.asarray(buckets, dtype=np.int64), return_counts=True)
    out = {int(b): float(c) * value for b, c in zip(found, counts)}
    out.update((DIM + i, float(v)) for i, v in enumerate(_shapes(text)) if v)
    return out


@dataclass(frozen=True)
class Style:
    weights: np.ndarray  # DIM + SHAPES
    intercept: float

    def __post_init__(self) -> None:
        # The same weights as a plain array of floats: a question reads some thirty of them, and in
        # pure Python that costs /ask less than the numpy calls it took (each is dearer right
        # after the model has run).
        object.__setattr__(self, "_table", array("d", self.weights.tolist()))

    def real_share(self, text: str) -> float:
        """The probability that the question is a real one, as the training questions taught it."""
        buckets, value = _buckets(text)
        table = self._table
        shapes = sum(w * v for w, v in zip(table[DIM:], _shapes(text)))
        z = value * math.fsum(map(table.__getitem__, buckets)) + shapes + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    def to_dict(self) -> dict:
        # Every weight, as little-endian float32 in base64: read back in a tenth of a millisecond,
        # where the same 16,392 numbers as JSON lists took the bot's start-up 4 ms.
        packed = base64.b64encode(self.weights.astype("<f4").tobytes()).decode("ascii")
        return {"dim": DIM, "shapes": SHAPES, "weights_f32": packed, "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict) -> Style:
        """From to_dict's form, or from the sparse one (`buckets` and their `weights`)."""
        if data["dim"] != DIM or data["shapes"] != SHAPES:
            raise ValueError("style features of another size than this version computes")
        if "weights_f32" in data:
            weights = np.frombuffer(base64.b64decode(data["weights_f32"], validate=True), dtype="<f4")
            if len(weights) != DIM + SHAPES:
                raise ValueError("style weights of another size than its dimensions say")
            return cls(weights.astype(np.float64), float(data["intercept"]))
        weights = np.zeros(DIM + SHAPES, dtype=np.float64)
        weights[np.asarray(data["buckets"], dtype=np.int64)] = data["weights"]
        return cls(weights, float(data["intercept"]))
