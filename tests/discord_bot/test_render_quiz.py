"""Quiz questions in button ids (render_quiz.QuizCodec): which option is right is readable only with
the bot's secret, the state's, so a reset of the bot token changes no question on screen, and ids
made before, keyed by the token, are still read right."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from bot.discord_bot import render_quiz
from bot.glossary.quiz import KINDS, MEANING, Question

TOKEN = "the-bot-token"
TERMS = ["Attention", "LoRA", "KV cache", "Softmax"]

#: every kind, and every place for the right option, among a dozen sets of options
QUESTIONS = [Question(kind, 10 * n + 1 + correct, tuple(range(10 * n + 1, 10 * n + 5)))
             for n in range(12) for kind in KINDS for correct in range(4)]


def _as_made_before(question: Question, pick: int, token: str) -> str:
    """A button id as the release before made it: no `k`, its tag keyed by the bot token."""
    secret = hashlib.sha256(b"glossary-bot quiz\0" + token.encode()).digest()
    options = ".".join(map(str, question.options))
    shift = hmac.new(secret, f"{question.kind}:{options}".encode(), hashlib.sha256).digest()[0] % 4
    tag = (question.correct - shift) % 4
    return f"gloss:quiz:{question.kind[0]}:{options}:{render_quiz.names_hash(TERMS)}:{tag}:{pick}"


def test_the_right_option_does_not_depend_on_the_bot_token():
    made = render_quiz.QuizCodec(render_quiz.secret_for("state key"),
                                 legacy=render_quiz.token_secret_for("the token before a reset"))
    read = render_quiz.QuizCodec(render_quiz.secret_for("state key"),
                                 legacy=render_quiz.token_secret_for("the token after it"))
    for question in QUESTIONS:
        assert read.parse(made.custom_id(question, 2, terms=TERMS)) == (question, 2)
    other_state = render_quiz.QuizCodec(render_quiz.secret_for("another state's key"))
    assert any(other_state.parse(made.custom_id(q, 0, terms=TERMS))[0] != q for q in QUESTIONS)


def test_ids_made_before_the_state_keyed_them_are_read_with_the_token():
    codec = render_quiz.QuizCodec(render_quiz.secret_for("state key"), legacy=render_quiz.token_secret_for(TOKEN))
    for question in QUESTIONS:
        assert codec.parse(_as_made_before(question, 1, TOKEN)) == (question, 1)
    # without the token's secret, such an id is no question rather than one judged at random
    assert render_quiz.QuizCodec(render_quiz.secret_for("state key")).parse(
        _as_made_before(QUESTIONS[0], 1, TOKEN)) is None


def test_the_longest_id_fits_discord():
    codec = render_quiz.QuizCodec(render_quiz.secret_for("state key"))
    question = Question(MEANING, 99999, (99999, 99998, 99997, 99996))
    custom_id = codec.custom_id(question, 3, date(2026, 12, 31), TERMS)
    assert len(custom_id) <= 100 and render_quiz.daily_day(custom_id) == date(2026, 12, 31)
    assert codec.parse(custom_id) == (question, 3)
