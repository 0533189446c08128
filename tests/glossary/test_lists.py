"""Lists of names (bot/glossary/lists.py) on the real glossary with the real bundled model."""

import pytest

from bot.glossary.search import ANSWER, NOT_FOUND, SUGGEST


@pytest.mark.parametrize("question, asked", [
    ("what are lora and qlora?", ["LoRA", "QLoRA"]),
    ("what is rlhf, dpo and ppo", ["RLHF", "DPO", "PPO"]),
    ("what's the difference between bf16, fp16, fp8 and int8?", ["bfloat16", "float16", "FP8", "int8"]),
    ("mqa and gqa", ["MQA", "GQA"]),
    ("gelu, silu and swiglu... what are they all", ["GELU", "SiLU", "SwiGLU"]),
    ("explain fp8 fp4 int8 bf16", ["FP8", "FP4", "int8", "bfloat16"]),  # names side by side, no separators
])
def test_a_framed_list_of_names_sets_every_entry_side_by_side(searcher, question, asked):
    result = searcher.search(question)
    assert result.band == ANSWER and [h.entry.term for h in result.asked] == asked and not result.note


def test_a_name_the_glossary_lacks_in_a_list_is_said_not_to_be_there(searcher):
    result = searcher.search("what is rlhf, what is dpo, what is kto")
    assert [h.entry.term for h in result.asked] == ["RLHF", "DPO"]
    assert "“kto”" in result.note


@pytest.mark.parametrize("question, best, lacking", [
    ("rope vs alibi?", "RoPE", "“alibi”"),
    ("what are gguf and exl2?", "GGUF", "“exl2”"),
    ("explain adam, lion and muon", "Adam", "“lion” or “muon”"),
    # written as a coined name, not the everyday word, and one name, not the glossary's "li" and "bi"
    ("what does RoPE do? and what is ALiBi?", "RoPE", "“ALiBi”"),
    # an acronym the glossary writes as one, though longer names hold it (PixelCNN, DCGAN)
    ("cnn vs rnn", "CNN", "“rnn”"),
    ("difference between cnn and rnn", "CNN", "“rnn”"),
    ("diff between cnn and rnn", "CNN", "“rnn”"),
])
def test_one_telling_name_listed_beside_names_the_glossary_lacks_is_answered_saying_so(
        searcher, question, best, lacking):
    # The name the ranker doubts for the word it never saw beside it is what the message asks about.
    result = searcher.search(question)
    assert result.band == ANSWER and [h.entry.term for h in result.hits] == [best]
    assert result.note == f"The glossary has no entry for {lacking}." and result.lacking


@pytest.mark.parametrize("question, best, lacking", [
    ("what is a batch and a whisk?", "Batch", "whisk"),  # a name many entries use: maybe baking
    ("what is lora and dora", "LoRA", "dora"),
])
def test_a_less_telling_name_listed_beside_names_the_glossary_lacks_is_offered_first(searcher, question, best,
                                                                                     lacking):
    result = searcher.search(question)
    assert result.band == SUGGEST and result.best.entry.term == best
    assert result.note == f"The glossary has no entry for “{lacking}”."


@pytest.mark.parametrize("question, asked, lacking", [
    ("what is grpo, gae and trpo", ["GRPO", "GAE"], "trpo"),  # spelled like GRPO, which the list names already
    ("rrt, ompl and a* - explain", ["RRT", "OMPL"], "a*"),  # asked by its closing word
    ("top-k, top-p, min-p and temperature?? how do they interact", ["Top-k", "Top-p", "Temperature"], "min-p"),
    ("lora vs dora vs qlora", ["LoRA", "QLoRA"], "dora"),  # a comparison asks, unframed
    ("what's slo? what's sli? and error budget?", ["SLO", "SLI", "Error budget"], None),
    # the ranker's own hits name two of the three
    ("what is mfu? what's a roofline? and arithmetic intensity?", ["MFU", "Roofline", "AI (arithmetic intensity)"],
     None),
    ("TTFT and ITL what are they", ["TTFT", "ITL / TPOT"], None),  # asked by a closing "what are they"
    # an item that is a name without its head, when only one name has it: "Diffusion model", "Greedy decoding"
    ("gan vs vae vs diffusion", ["GANs (Generative Adversarial Networks)", "VAE", "Diffusion model"], None),
    ("greedy vs sampling", ["Greedy decoding", "Sampling"], None),
    ("euler vs heun", ["Euler method", "Heun's method"], None),
    # a word before the last item shares its head: "static quantization", "tensor parallelism"
    ("static vs dynamic quantization", ["Static quantization (PTQ)", "Dynamic quantization"], None),
    ("tensor or context parallelism", ["Tensor parallelism (TP)", "Context parallelism"], None),
    ("ddpm, ddim, dpm-solver — which is fastest", ["DDPM", "DDIM", "DPM-Solver"], None),  # closed by a dash
    ("what are sam, dino and clip?", ["DINOv2", "CLIP"], "sam"),
    # PRM is the glossary's robot planner; beside ORM it is the process reward model
    ("prm vs orm", ["Process reward model", "Outcome reward model"], None),
    ("tokens per byte, bpe, sentencepiece — what are these", ["Tokens per byte", "BPE"], "sentencepiece"),
])
def test_a_list_asked_however_worded_shows_every_entry_and_names_what_is_lacking(searcher, question, asked, lacking):
    result = searcher.search(question)
    assert result.band == ANSWER and [h.entry.term for h in result.asked] == asked
    assert result.note == (f"The glossary has no entry for “{lacking}”." if lacking else "")


def test_a_side_written_as_a_coined_name_is_said_to_be_lacking_and_the_other_is_offered(searcher):
    # "gpt" is a word of the glossary's, so "gpt-4v vs llava" had been refused outright: LLaVA only hinted.
    result = searcher.search("gpt-4v vs llava")
    assert result.band != NOT_FOUND and result.best.entry.term == "LLaVA"
    assert result.note == "The glossary has no entry for “gpt-4v”."


@pytest.mark.parametrize("question, best, lacking", [
    ("vllm vs ray serve", "vLLM", "ray serve"),
    ("greedy decoding vs beam search", "Greedy decoding", "beam search"),
    ("how do beam search and greedy decoding differ", "Greedy decoding", "beam search"),
])
def test_the_other_side_of_a_vs_is_said_to_be_lacking_even_in_words_the_glossary_uses(searcher, question, best,
                                                                                      lacking):
    # "beam" and "search" are words of the glossary's, so no note had said it lacks beam search
    result = searcher.search(question)
    assert result.band != NOT_FOUND and result.best.entry.term == best
    assert result.note == f"The glossary has no entry for “{lacking}”."


@pytest.mark.parametrize("question", [
    "adam vs the rest", "lora vs full fine-tuning",  # no name; a kind of Fine-tuning
    "l2 reg vs weight decay",  # digits, but two words: short for L2 regularization
    "SLI vs SLO what's measured?",
    "SFT is just cross-entropy on demonstration data, right? nothing fancier",
    "closed-form solution vs iterative optimization — what's the actual difference?",
    "series elastic actuators vs quasi-direct-drive motors for a small legged robot, tradeoffs?",
    "what are salt, pepper and cumin?",
    "h.264 / vp9 / av1 differences?",  # "differences" closes the list: its last name is AV1
])
def test_words_of_a_question_that_read_as_items_are_not_called_missing_names(searcher, question):
    # Only words the glossary never uses are names it lacks, and only beside an entry the list names.
    assert "no entry for" not in searcher.search(question).note


@pytest.mark.parametrize("question", ["what is lora and how do i use it", "what is qlroa and lora",
                                      "what is lora and dora",
                                      "lora vs kto vs orpo"])
def test_a_name_with_a_question_of_its_own_a_slip_or_names_mostly_missing_is_no_list(searcher, question):
    # "dora" is no slip of LoRA but a name the glossary lacks: one entry is no list to set side by side
    assert not searcher._listed(question)


@pytest.mark.parametrize("question, asked", [
    ("what is lora? how is qlora different?", ["LoRA", "QLoRA"]),
    ("what's an LLM? and what makes a reasoning model different", ["LLM", "Reasoning model"]),
    ("what's rlhf and why do people use dpo instead", ["RLHF", "DPO"]),
    ("what's attention? and how does flash attention speed it up", ["Attention", "FlashAttention"]),
    ("What is a tokenizer? And why does BPE split words in weird places?", ["Tokenizer", "BPE"]),
    ("What does the discriminator do, and what does the generator do?", ["Discriminator", "Generator"]),
    ("how does quantization work and what is calibration for", ["Quantization", "Calibration"]),
    ("what are rlhf, dpo and ppo used for", ["RLHF", "DPO", "PPO"]),  # what each is for is what each is
    # a question before a "what is …" of another name asks about its own name too
    ("does GPTQ only work for GPT models? and what's the Hessian used for", ["GPTQ", "Hessian"]),
])
def test_a_question_of_its_own_about_another_name_sets_that_entry_beside_the_first(searcher, question, asked):
    # Only the first entry was shown: the follow-up question's name was no item of a list.
    assert [h.entry.term for h in searcher.search(question).asked] == asked


@pytest.mark.parametrize("question", [
    "how many labels does AudioSet have, and how long is each clip?",  # "clip" is a word here, not CLIP
    "does ZeRO shard only the params, or the gradients and optimizer state too?",  # what it asks of ZeRO
    "what is lora and how do i use it",
])
def test_a_question_of_its_own_naming_nothing_telling_adds_nothing(searcher, question):
    assert searcher.search(question).asked == ()


@pytest.mark.parametrize("question, asked", [
    ("data parallel vs tensor parallel", ["Data parallelism", "Tensor parallelism (TP)"]),  # short names
    ("@bot diffrence btwn dpo & ppo", ["DPO", "PPO"]),  # misspelt as typed: PPO was lost to Workhorse
    ("wats the diff b/w lora and qlora", ["LoRA", "QLoRA"]),
    ("ADD vs LCM for few-step sampling — which is sharper and what's the catch", ["ADD (Adversarial Diffusion Distillation)",
                                                                                   "LCM"]),
])
def test_comparisons_typed_in_a_hurry_set_their_sides_side_by_side(searcher, question, asked):
    result = searcher.search(question)
    assert [h.entry.term for h in result.asked] == asked
    assert "no entry for" not in result.note  # "the catch" is no name


def test_the_scene_of_a_comparison_is_no_part_of_its_last_side(searcher):
    # "transformer for long context" named nothing, so the question was refused, mamba never mentioned
    result = searcher.search("mamba vs transformer for long context")
    assert result.band != NOT_FOUND and result.best.entry.term == "Transformer"
    assert result.note == "The glossary has no entry for “mamba”."


def test_an_unsure_comparison_of_two_names_the_glossary_lacks_says_it_has_neither(searcher):
    result = searcher.search("what is the difference between supervised and unsupervised learning")
    assert result.band == SUGGEST and result.hits
    assert result.note == "The glossary has no entry for “supervised” or “unsupervised learning”."


def test_a_topic_said_before_a_comparison_is_not_called_a_missing_name(searcher):
    question = "SQL question: what's the difference between a LEFT JOIN and an INNER JOIN?"
    assert "SQL question" not in searcher.search(question).note
