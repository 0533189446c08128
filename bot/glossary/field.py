"""Whether a question is about the glossary's field at all, read off its embedding.

"what is a lymph node", "a 1200 kg car moves at 15 m/s, what is its momentum" and "what is a
sample in hip hop" name glossary entries (Node, Momentum, Sample) in another sense. The ranker
weighs a named entry as strong evidence, so such questions get a "Did you mean" of the
glossary's sense, or now and then an answer. A logistic model gives the probability that the
question is outside machine learning from two things the search has already computed: the
question's vector and its best cosine with an entry's whole text (so it costs one dot product).
Above `outside_at`, an answer becomes an offer, and the offer says the glossary may not cover the
question.

Like a ranker, the model is data: `data/field/<name>.json`, written by
`scripts/train_field.py` from the training questions (data/train/) and questions from other
fields (data/train/other_fields.jsonl), never from the evaluation sets; it names the embedding
model it was fitted on and is used only with that model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = 1
FIELD_DIR = Path(__file__).resolve().parents[2] / "data" / "field"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldModel:
    name: str
    model_id: str
    coef: np.ndarray  # over a unit-length query vector
    intercept: float
    nearest_coef: float  # … and over the question's best cosine with an entry's whole text
    outside_at: float  # probability of "outside the field" from which a reply hedges
    info: dict

    def outside(self, qvec: np.ndarray, nearest: float) -> float:
        """Probability that the question of this (unit) vector is about something other than ML.
        `nearest` is its best cosine with an entry's whole text: "how does a fourier transform
        split sound" reads like physics, but the glossary's entry is right there."""
        z = float(qvec @ self.coef) + self.nearest_coef * nearest + self.intercept
        return float(1.0 / (1.0 + np.exp(-z)))

    def is_outside(self, qvec: np.ndarray, nearest: float) -> bool:
        return self.outside(qvec, nearest) >= self.outside_at

    @classmethod
    def from_dict(cls, data: dict, name: str = "field") -> FieldModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        return cls(name=name, model_id=data["model_id"], coef=np.asarray(data["coef"], dtype=np.float32),
                   intercept=float(data["intercept"]), nearest_coef=float(data["nearest_coef"]),
                   outside_at=float(data["outside_at"]), info=data.get("info", {}))


def field_model_for(model_id: str, directory: Path = FIELD_DIR) -> FieldModel | None:
    """The field model fitted on this embedding model's vectors, or None (then no reply hedges for
    being outside the field: another model's vectors mean nothing to these weights)."""
    for path in sorted(Path(directory).glob("*.json")):
        try:
            model = FieldModel.from_dict(json.loads(path.read_text(encoding="utf-8")), path.stem)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the field model %s: %s (restore data/field/ from the repository)", path, exc)
            continue
        if model.model_id == model_id:
            return model
    return None
