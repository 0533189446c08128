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


def in_another_script(text: str) -> bool:
    """Most of the letters are not Latin ones (Chinese, Cyrillic, Arabic, …): Greek letters
    inside an English question ("β-VAE", "what does σ mean") leave it English."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(not _is_latin(ch) for ch in letters) > len(letters) / 2


def in_another_language(text: str) -> bool:
    """Written in another script, or at least two words and a third of them common words of
    Spanish, French, German, Portuguese or Italian ("¿qué es el aprendizaje por refuerzo?")."""
    if not text.isascii() and in_another_script(text):
        return True
    words = _WORDS.findall(text.casefold() if text.isascii() else _plain(text))
    foreign = sum(w in _FOREIGN_PLAIN for w in words)
    return foreign >= 2 and foreign * 3 >= len(words)
