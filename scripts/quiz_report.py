"""How good the quiz's distractors are, over N generated questions (default 200):

    python scripts/quiz_report.py [--questions N] [--seed S]

Prints, for the README: how many options broke a rule (shared name, same thing or too close,
"see" link, named by the question, cosine ≥ NEAR_DUPLICATE; must be 0), and the mean cosine of distractors to their answer
against that of random entries. Reads the built index (data/index.db); no model call.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.glossary.quiz import NEAR_DUPLICATE, QuizMaker  # noqa: E402
from bot.glossary.same_thing import read_same_things  # noqa: E402
from bot.glossary.store import GlossaryIndex  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings = Settings.load()
    index = GlossaryIndex(settings.index_path)
    quiz = QuizMaker(index, read_same_things(settings.glossary_path, index))
    rng = random.Random(args.seed)
    cosine = lambda a, b: float(quiz.vectors[quiz.position[a]] @ quiz.vectors[quiz.position[b]])  # noqa: E731
    close, chance, broken, kinds = [], [], 0, {}
    for _ in range(args.questions):
        question = quiz.question(rng)
        kinds[question.kind] = kinds.get(question.kind, 0) + 1
        banned = quiz.excluded(question.answer, question.kind)
        for option in question.options:
            if option == question.answer:
                continue
            broken += option in banned or cosine(question.answer, option) >= NEAR_DUPLICATE
            close.append(cosine(question.answer, option))
            chance.append(cosine(question.answer, rng.choice(quiz.ids)))
    print(f"{args.questions} questions ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), "
          f"{len(quiz.askable)} of {len(quiz.ids)} entries askable")
    print(f"options breaking a rule: {broken}")
    print(f"cosine to the answer: distractors mean {np.mean(close):.3f} (median {np.median(close):.3f}), "
          f"random entries mean {np.mean(chance):.3f} (median {np.median(chance):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
