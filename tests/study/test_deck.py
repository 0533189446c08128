"""card_named: which card of a deck a typed name means, by the card's own name."""

from bot.study.deck import card_named

DECK = ["Aether wind", "Aether-Wind", "Caloric-Theory", "LoRA", "Phlogiston", "β-VAE"]


def test_as_typed_then_in_any_case_then_as_a_lookup_forgives():
    assert card_named(DECK, "Phlogiston") == "Phlogiston"
    assert card_named(DECK, " phlogiston ") == "Phlogiston"
    assert card_named(DECK, "lora") == "LoRA"
    assert card_named(DECK, "caloric theories") == "Caloric-Theory"
    assert card_named(DECK, "beta-vae") == "β-VAE"


def test_the_strictest_match_wins_and_two_equally_loose_ones_are_not_guessed_between():
    assert card_named(DECK, "Aether-Wind") == "Aether-Wind"
    assert card_named(DECK, "aether wind") == "Aether wind"  # in any case: one; as a lookup: both
    assert card_named(DECK, "aether winds") is None
    assert card_named(DECK, "Dropout") is None and card_named([], "lora") is None
