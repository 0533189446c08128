"""Names as typed (bot/glossary/names.py), through the search on the real glossary."""

from bot.glossary.search import ANSWER, SUGGEST


def test_a_short_acronym_with_a_letter_far_off_the_keyboard_is_another_name(searcher):
    # DoRA, ORPO and LoHa are methods of their own the glossary lacks, once answered as LoRA and GRPO.
    for typed, near in (("dora", "LoRA"), ("what is orpo", "GRPO"), ("loha", "LoRA")):
        result = searcher.search(typed)
        assert result.band == SUGGEST and result.best.entry.term == near, typed


def test_a_short_acronym_with_a_neighbouring_key_is_still_a_slip(searcher):
    for typed, term in (("lpra", "LoRA"), ("kora", "LoRA"), ("what is qlroa", "QLoRA")):
        result = searcher.search(typed)
        assert result.band == ANSWER and result.best.entry.term == term, typed
