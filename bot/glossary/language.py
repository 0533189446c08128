"""Whether a question the glossary could not answer was written in another language.

The glossary, its names and the embedding model are English. A question in Chinese, Russian or
Spanish that names no entry finds nothing, and "the glossary doesn't cover that" would be untrue:
it may well cover it, in English. Such a question gets ENGLISH_ONLY_NOTE instead. Written in
another script altogether, it is not even worth a model call (the model reads it as noise).
"""

from __future__ import annotations

import re
import unicodedata

ENGLISH_ONLY_NOTE = ("I can only read questions in English: the glossary and its search are in English. "
                     "Try asking in English, e.g. “what is attention?” (a term's English name works too).")
# … and beside the entries such a question names, offered: "I can only read English" above them read as
# though they were no answer to it (a new user asking "¿qué es flash attention?" saw both).
ENGLISH_NAMES_NOTE = ("I read questions in English only, so this is a guess from the names in your question; "
                      "ask in English for a surer answer.")

# Words that are common in questions in Spanish, French, German, Portuguese and Italian and are no
# English words (so "die", "was", "come", "son", "a" are left out). Accents are matched as typed
# and without them.
_FOREIGN_WORDS = frozenset("""
    qué que cómo como cuál cual cuáles por para porqué porque del los las una unos unas es son está
    diferencia entre significa funciona sirve puedo hacer aprendizaje modelo
    qu quest est ce cest les des une du pourquoi quelle quel quels avec dans sont entre signifie
    apprentissage modèle fonctionne
    ist der das ein eine einen wie warum und nicht mit zwischen bedeutet funktioniert unterschied welche
    erklären erkläre
    é não uma qual quais diferença significa aprendizado funciona
    che cosa cos il della delle degli perché sono differenza significa funziona apprendimento
""".split())
_ACCENT_MARKS = re.compile(r"[\u0300-\u036f]")
_WORDS = re.compile(r"[^\W\d_]+")


def _plain(word: str) -> str:
    return _ACCENT_MARKS.sub("", unicodedata.normalize("NFKD", word.casefold()))


_FOREIGN_PLAIN = frozenset(_plain(w) for w in _FOREIGN_WORDS)


def _is_latin(ch: str) -> bool:
    return "LATIN" in unicodedata.name(ch, "")


def _is_greek(ch: str) -> bool:
    return "GREEK" in unicodedata.name(ch, "")


# "what does σ mean": Greek letters are maths in an English question. Letters of another script
# (Chinese, Cyrillic, Arabic …) make a fifth of the letters when the question is asked in that
# language around an English name ("什么是LoRA?" 3 of 7, "что такое attention?" 9 of 18); an English
# question quoting a word of it has far fewer ("why does the tokenizer split 你好 into 3 tokens": 2 of 33).
OTHER_SCRIPT_SHARE = 0.2


def in_another_script(text: str) -> bool:
    """Written in good part in a script other than Latin and Greek."""
    letters = [ch for ch in text if ch.isalpha()]
    other = sum(not _is_latin(ch) and not _is_greek(ch) for ch in letters)
    return other >= 2 and other >= OTHER_SCRIPT_SHARE * len(letters)


# How questions open in those languages, even with one word of theirs: "was ist LoRA?"
_FOREIGN_OPENING = re.compile(r"^\W*(?:was ist|was sind|wie funktioniert|qu'?est[- ]ce que?|c'?est quoi|"
                              r"que es|qu[eé] es|qu[eé] son|o que [eé]|che cos'?[eèé]|cos'?[eèé])\b",
                              re.IGNORECASE)


def in_another_language(text: str) -> bool:
    """Written in another script, opened as a question in another language ("was ist …"), or at
    least two words and a third of them common words of Spanish, French, German, Portuguese or
    Italian ("¿qué es el aprendizaje por refuerzo?")."""
    if not text.isascii() and in_another_script(text):
        return True
    if _FOREIGN_OPENING.search(text.replace("’", "'")):
        return True
    words = _WORDS.findall(text.casefold() if text.isascii() else _plain(text))
    foreign = sum(w in _FOREIGN_PLAIN for w in words)
    return foreign >= 2 and foreign * 3 >= len(words)
