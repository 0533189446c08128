from bot.glossary.terms import (TermSpotter, aliases_for, content_words, is_abbreviation_of, lookup_key, standing_alone,
                                stem)
from tests.conftest import GLOSSARY


def names(term, definition):
    return [a for a, _ in aliases_for(term, definition)]


def test_lookup_key_ignores_case_hyphens_punctuation_plurals_and_accents():
    assert lookup_key("Fine-tuning") == lookup_key("fine tuning") == lookup_key("FINE·TUNING")
    assert lookup_key("Gradients") == lookup_key("gradient")
    assert lookup_key("VAEs") == lookup_key("VAE")
    assert lookup_key("Fréchet Video Distance") == lookup_key("frechet video distance")
    assert lookup_key("β-VAE") == lookup_key("beta-vae")
    assert lookup_key("Bias") == lookup_key("biases")


def test_parenthetical_and_slash_aliases():
    assert names("CFG (classifier-free guidance)", "x") == [
        "CFG (classifier-free guidance)",
        "CFG",
        "classifier-free guidance",
    ]
    assert names("FK / IK", "Forward and inverse kinematics.")[1:3] == ["FK", "IK"]
    # a qualifier in parentheses is not an alias
    assert "multimodal" not in names("Alignment (multimodal)", "Making modalities agree.")


def test_expansion_and_also_called_aliases():
    assert "Articulated-Body Algorithm" in names("ABA", "Articulated-Body Algorithm — O(n) forward dynamics")
    assert "gradient checkpointing" in names(
        "Activation checkpointing", "A memory-saving trick. Also called gradient checkpointing."
    )
    assert "bf16" in names("bfloat16", "A 16-bit float format, also written bf16, BF16.")


def test_abbreviation_check_rejects_lookalikes():
    assert is_abbreviation_of("Adam", "Adaptive Moment Estimation")
    assert is_abbreviation_of("ONNX", "Open Neural Network Exchange")
    assert not is_abbreviation_of("AdamW", "Adam optimizer with decoupled weight decay")


def test_spotter_finds_longest_names_and_see_references():
    spotter = TermSpotter(["LoRA", "attention", "temporal inflation", "temporal"])
    found = [m.key for m in spotter.spot("can someone explain what LoRA does with temporal inflation?")]
    assert found == ["lora", "temporal inflation"]
    refs = list(spotter.see_references("adds time layers (see temporal inflation). See also attention."))
    assert refs == ["temporal inflation", "attention"]


def test_stems_come_from_the_c_stemmer_and_match_the_pure_python_one():
    # The index stores stems: a stemmer that changed them would silently break keyword search.
    import re

    from snowballstemmer.porter_stemmer import PorterStemmer

    from bot.glossary.terms import _STEMMER

    assert type(_STEMMER).__module__ == "Stemmer"  # PyStemmer: start-up stems every name in the glossary
    words = sorted(set(re.findall(r"[a-z0-9]+", GLOSSARY.read_text(encoding="utf-8").lower())))
    reference = PorterStemmer()
    assert len(words) > 5000
    assert [w for w in words if stem(w) != reference.stemWord(w)] == []


def test_code_identifiers_also_give_their_words_and_stay_whole():
    # Real questions paste flags and class names: `num_warps` is about warps, and an earlier
    # question that used `num_warps` should still match it as one word.
    assert content_words("what is num_warps") == ["num_warp", "num", "warp"]
    assert content_words("ByteLevelBPETokenizer") == ["bytelevelbpetoken", "byte", "level", "bpe", "token"]
    assert content_words("c_skip1 * x") == ["c_skip1", "skip"]  # one letter and digits are no words
    assert content_words("the LoRA rank")[:2] == ["lora", "rank"]  # a mixed-case name stays whole too


def test_text_without_identifiers_keeps_its_words():
    assert content_words("plain words stay plain") == [stem("plain"), stem("word"), stem("stay"), stem("plain")]
    assert content_words("state dict") == content_words("State Dict")


def test_stopwords_stay_out_in_their_singular_form_too():
    # tokens() singularises "does" to "doe", which was a keyword matching every "does" in the bank.
    assert content_words("how does dropout work") == content_words("how dropout work")
    assert content_words("what does it mean") == []


def test_words_stand_alone_unless_typed_inside_an_identifier_flag_or_path():
    assert "tensor" not in standing_alone("dist.all_gather(tensor_list, t)")
    assert "policy" not in standing_alone("vllm --scheduling-policy priority")
    assert "attention" in standing_alone("self-attention")  # a hyphenated word keeps its words
    assert "dreambooth" not in standing_alone("see examples/dreambooth/train_dreambooth_lora.py")
    assert {"gelu", "silu", "swiglu"} <= standing_alone("explain gelu/silu/swiglu")  # a slash list is no path
