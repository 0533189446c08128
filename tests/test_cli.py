import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

from bot.cli import main
from bot.config import PROJECT_ROOT


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_reports_690_entries(capsys, real_index_path):
    code, out, _ = run(capsys, "build", "--index", str(real_index_path))
    assert code == 0 and "690 entries" in out


def test_define_gradients_json_has_the_whole_worked_example(capsys, real_index_path):
    code, out, _ = run(capsys, "define", "gradients", "--json", "--index", str(real_index_path))
    data = json.loads(out)
    assert code == 0 and data["band"] == "answer"
    top = data["results"][0]
    assert top["term"] == "Gradients" and top["match"] == "exact"
    assert "A Concrete Example" in top["definition"] and "Interpreting the Results" in top["definition"]
    assert 1 <= len(data["related"]) <= 5 and {"term", "reason"} <= set(data["related"][0])


def test_ask_and_related_and_random_text(capsys, real_index_path):
    code, out, _ = run(capsys, "ask", "what is attention?", "--index", str(real_index_path))
    assert code == 0 and out.startswith("Attention")
    code, out, _ = run(capsys, "related", "AdaLN", "--json", "--index", str(real_index_path))
    assert code == 0 and json.loads(out)["related"][0]["term"] == "AdaLN-Zero"
    code, out, _ = run(capsys, "random", "--json", "--index", str(real_index_path))
    assert code == 0 and json.loads(out)["term"]


def test_related_for_a_term_only_offered_exits_3_as_not_found(capsys, real_index_path):
    code, out, _ = run(capsys, "related", "flux capacitor", "--index", str(real_index_path))
    assert code == 3 and not out.startswith("Related to")


def test_related_json_for_a_term_the_glossary_lacks_prints_defines_json(capsys, real_index_path):
    code, out, _ = run(capsys, "related", "flux capacitor", "--json", "--index", str(real_index_path))
    assert code == 3 and json.loads(out)["band"] in ("suggest", "not_found")


def test_build_json_up_to_date_counts_what_the_index_holds(capsys, real_index_path):
    code, out, _ = run(capsys, "build", "--json", "--index", str(real_index_path))
    report = json.loads(out)
    assert code == 0 and report["up_to_date"] is True
    with sqlite3.connect(real_index_path) as conn:
        definitions = [row[0] for row in conn.execute("SELECT definition FROM entries")]
    assert report["multiline"] == sum("\n" in d for d in definitions) > 0


def test_not_found_exits_3_with_message(capsys, real_index_path):
    code, out, _ = run(capsys, "ask", "how do I bake sourdough bread?", "--index", str(real_index_path))
    assert code == 3 and "doesn't cover" in out


def test_eval_json_shape(capsys, real_index_path, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        '{"id": "1", "kind": "exact", "query": "adam", "expected": ["Adam"]}\n'
        '{"id": "2", "kind": "negative", "query": "how do I bake sourdough bread?", "expected": []}\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "eval", str(cases), "--json", "--index", str(real_index_path))
    data = json.loads(out)
    assert code == 0 and set(data) == {"overall", "by_kind", "by_style", "refusal", "false_refusal", "answer_precision",
                                       "shown@3", "confident_wrong", "negatives_answered", "bands", "results",
                                       "in_sample"}
    assert [r["id"] for r in data["results"]] == ["1", "2"] and not data["in_sample"]
    assert set(data["results"][0]) >= {"id", "kind", "band", "top", "score"}
    assert data["overall"]["hit@1"] == 1.0 and data["refusal"] == 1.0 and data["false_refusal"] == 0.0


def test_eval_refuses_a_case_whose_expected_is_not_a_list_of_terms(capsys, real_index_path, tmp_path):
    # Read as a list, "Adam" would be the terms A, d, a, m: a miss scored without a word.
    cases = tmp_path / "cases.jsonl"
    for expected in ('"Adam"', "[1]", '{"term": "Adam"}'):
        cases.write_text('{"id": "1", "query": "adam", "expected": %s}\n' % expected, encoding="utf-8")
        code, out, err = run(capsys, "eval", str(cases), "--index", str(real_index_path))
        assert code == 1 and not out and f"{cases}:1:" in err and '["Adam"]' in err and err.count("\n") == 1


def test_eval_refuses_a_case_without_expected_or_with_no_question_and_names_terms_no_entry_has(
        capsys, real_index_path, tmp_path):
    """QA73: "expectd" was scored as an off-glossary question, a null query searched as "None", and a
    name no entry has counted as a confident mistake without a word."""
    cases = tmp_path / "cases.jsonl"
    for line, said in (('{"id": "a", "query": "adam", "expectd": ["Adam"]}', '"expected" is missing'),
                       ('{"id": "c", "query": null, "expected": ["Adam"]}', '"query" must be text')):
        cases.write_text(line + "\n", encoding="utf-8")
        code, out, err = run(capsys, "eval", str(cases), "--index", str(real_index_path))
        assert code == 1 and not out and f"{cases}:1:" in err and said in err, err
    cases.write_text('{"id": "b", "query": "lora", "expected": ["Lora typo"]}\n'
                     '{"id": "d", "query": "adam", "expected": ["Adam"]}\n', encoding="utf-8")
    code, out, err = run(capsys, "eval", str(cases), "--index", str(real_index_path))
    assert code == 0 and "warning: 1 expected name no entry has exactly: 'Lora typo'" in err, err


def test_eval_of_a_file_without_cases_says_so(capsys, real_index_path, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", str(cases), "--index", str(real_index_path))
    assert code == 1 and not out and "holds no eval case" in err


def test_feedback_export_reads_back_into_eval_whatever_the_question_holds(capsys, monkeypatch, tmp_path,
                                                                         real_index_path):
    # U+2028 and U+0085 come with text pasted from PDFs and web pages; JSON lines end at \n only.
    from bot.state import StateStore

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(tmp_path / "state.db"))
    store = StateStore(tmp_path / "state.db")
    now = datetime.now(UTC)
    question = store.feedback.log_question(1, "h", "ask", "what is lora\u2028in short\x85", "answer", "LoRA",
                                           ["LoRA"], now)
    store.feedback.vote(question, "h", 1, now)
    store.close()
    exported = tmp_path / "feedback.jsonl"
    assert run(capsys, "feedback", "export", "--out", str(exported))[0] == 0
    code, out, err = run(capsys, "eval", str(exported), "--json", "--index", str(real_index_path))
    assert code == 0, err
    assert [r["expected"] for r in json.loads(out)["results"]] == [["LoRA"]]


def test_feedback_export_names_entries_as_the_glossary_calls_them_now(capsys, monkeypatch, tmp_path,
                                                                     real_index_path):
    """Votes keep the entry's name of their day. Members confirmed answers while LoRA was called
    "Low-Rank Adaptation" (the keepers renamed it and kept the old name as an alias, as LoRA has it
    now); the export names LoRA, so `eval` counts the bot's answer a hit, and a vote for an entry
    that left the glossary is left out, with a word, not exported as a case no answer can meet; so is a
    question its voters disagreed on."""
    from bot.state import StateStore

    monkeypatch.setenv("GLOSSARY_STATE_DB", str(tmp_path / "state.db"))
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    store = StateStore(tmp_path / "state.db")
    now = datetime.now(UTC)
    confirmed = store.feedback.log_question(1, "a", "ask", "what is low-rank adaptation?", "answer",
                                            "Low-Rank Adaptation", [], now)
    store.feedback.vote(confirmed, "b", 1, now)
    corrected = store.feedback.log_question(1, "c", "ask", "how does lora fine-tuning work?", "answer", "QLoRA",
                                            [], now)
    store.feedback.vote(corrected, "d", -1, now)
    store.feedback.set_wanted(corrected, "d", "Low-Rank Adaptation")
    dropped = store.feedback.log_question(1, "e", "ask", "what is a frobnicator?", "answer", "Frobnicator", [], now)
    store.feedback.vote(dropped, "f", 1, now)
    split = store.feedback.log_question(1, "g", "ask", "what is qlora?", "answer", "QLoRA", [], now)
    store.feedback.vote(split, "h", 1, now)
    store.feedback.vote(split, "i", -1, now)
    store.feedback.set_wanted(split, "i", "Low-Rank Adaptation")
    store.close()
    exported = tmp_path / "feedback.jsonl"
    code, _, err = run(capsys, "feedback", "export", "--out", str(exported))
    assert code == 0 and "left out 1 question about an entry no longer in the glossary" in err
    assert "left out 1 question its voters disagreed on (a 👍 and a 👎 that picked another entry" in err
    cases = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert [c["expected"] for c in cases] == [["LoRA"], ["LoRA"]]
    code, out, _ = run(capsys, "eval", str(exported), "--json", "--index", str(real_index_path))
    assert code == 0 and json.loads(out)["overall"]["hit@1"] == 1.0


def test_feedback_export_replaces_a_file_only_when_told_to(capsys, monkeypatch, tmp_path, real_index_path):
    """QA73: `--out` over a keeper's hand-written eval file wiped it, even with nothing to export; an
    earlier export the keeper looked through (taking out questions that name who asked) is theirs too."""
    from bot.state import StateStore

    monkeypatch.setenv("GLOSSARY_STATE_DB", str(tmp_path / "state.db"))
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    StateStore(tmp_path / "state.db").close()
    mine = tmp_path / "my-eval.jsonl"
    hand_written = '{"id": "mine1", "kind": "question", "query": "hand-written", "expected": ["LoRA"]}\n'
    mine.write_text(hand_written, encoding="utf-8")
    code, _, err = run(capsys, "feedback", "export", "--out", str(mine))
    assert code == 0 and "nothing to export" in err and mine.read_text(encoding="utf-8") == hand_written
    code, out, err = run(capsys, "feedback", "export")  # to stdout: empty, and said (QA76)
    assert code == 0 and out == "" and "nothing to export" in err

    store = StateStore(tmp_path / "state.db")
    now = datetime.now(UTC)
    store.feedback.vote(store.feedback.log_question(1, "a", "ask", "what is lora?", "answer", "LoRA", [], now),
                        "b", 1, now)
    store.close()
    code, _, err = run(capsys, "feedback", "export", "--out", str(mine))
    assert code == 1 and "exists" in err and "--force" in err and mine.read_text(encoding="utf-8") == hand_written
    exported = tmp_path / "feedback.jsonl"
    assert run(capsys, "feedback", "export", "--out", str(exported))[0] == 0
    exported.write_text("", encoding="utf-8")  # looked through: every question taken out
    assert run(capsys, "feedback", "export", "--out", str(exported))[0] == 1
    assert exported.read_text(encoding="utf-8") == ""
    assert run(capsys, "feedback", "export", "--out", str(exported), "--force")[0] == 0
    assert run(capsys, "feedback", "export", "--out", str(mine), "--force")[0] == 0
    assert mine.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".*.partial"))


def test_a_question_typed_without_quotes_is_one_question(capsys, real_index_path):
    code, out, err = run(capsys, "ask", "what", "is", "lora", "--json", "--index", str(real_index_path))
    assert code == 0, err
    assert json.loads(out)["query"] == "what is lora"
    code, out, _ = run(capsys, "define", "gradient", "checkpointing", "--index", str(real_index_path))
    assert code == 0 and out.startswith("Gradient checkpointing\n")


def test_a_misspelt_setting_in_dotenv_is_pointed_out_without_its_value(capsys, monkeypatch, tmp_path,
                                                                        real_index_path):
    """DISCORD_TOKN=… left the bot saying no token was set, to someone who had put one in .env."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("# mine\nDISCORD_TOKN=abc.secret.xyz\nGLOSSARY_MESAGE_CONTENT=true\n"
                                   "DISCORD_TOKEN: other.secret.value\nPOSTGRES_PASSWORD=pw\n"
                                   f"GLOSSARY_INDEX={real_index_path}\n", encoding="utf-8")
    code, out, err = run(capsys, "define", "lora")
    assert code == 0 and out.startswith("LoRA")
    assert "line 2: DISCORD_TOKN is no setting of the bot's, so it is ignored: did you mean DISCORD_TOKEN?" in err
    assert "did you mean GLOSSARY_MESSAGE_CONTENT?" in err
    assert "line 4 (DISCORD_TOKEN …) has no '='" in err
    assert "POSTGRES" not in err and "GLOSSARY_INDEX" not in err  # not ours, and right
    assert "secret" not in err


def test_run_without_a_token_and_nothing_to_read_is_a_setting_missing(tmp_path, real_index_path):
    """Under Docker or systemd stdin is /dev/null: the console read nothing and exited 0 at once, and
    `restart: unless-stopped` started it again for ever. With a pipe, the console answers as before."""
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update(PYTHONPATH=str(PROJECT_ROOT), GLOSSARY_INDEX=str(real_index_path),
               GLOSSARY_STATE_DB=str(tmp_path / "state.db"))
    unattended = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120, check=False)
    assert unattended.returncode == 78 and unattended.stdout == ""
    assert unattended.stderr.strip().splitlines() == [
        "glossary-bot: DISCORD_TOKEN is not set, and there is no terminal or input for the local console: "
        "put the bot's token in .env (or the environment) as DISCORD_TOKEN=…"]
    piped = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, input="what is lora\n",
                           capture_output=True, text=True, timeout=120, check=False)
    assert piped.returncode == 0 and piped.stdout.startswith("LoRA\n")


def test_user_errors_are_one_line_not_tracebacks(capsys, tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 50)
    missing = tmp_path / "missing.jsonl"
    code, _, err = run(capsys, "eval", str(missing), "--index", str(bad))
    assert code == 1 and err.startswith("glossary-bot: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_usage_errors_return_2_instead_of_raising(capsys):
    assert main([]) == 2
    assert main(["define"]) == 2
    assert "usage: glossary-bot" in capsys.readouterr().err


def test_no_command_or_help_lists_the_commands_and_version_says_the_version(capsys):
    """QA58 N9: `glossary-bot` alone, and `glossary-bot help`, were a bare argparse error."""
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: glossary-bot") and "error:" not in err
    listed = [line.split()[0] for line in err.splitlines() if line.startswith("  ")]
    assert listed[:3] == ["build", "check", "define"] and {"run", "feedback", "gaps", "help"} <= set(listed)
    assert "  ask       ask a free-form question" in err
    code, out, err = run(capsys, "help")
    assert code == 0 and err == "" and "  run       run the Discord bot" in out
    code, out, _ = run(capsys, "help", "gaps")
    assert code == 0 and out.startswith("usage: glossary-bot gaps") and "--days" in out
    code, _, err = run(capsys, "help", "nope")
    assert code == 2 and "no command 'nope'" in err
    code, out, _ = run(capsys, "--version")
    assert (code, out) == (0, f"glossary-bot {_pyproject_version()}\n")


def _pyproject_version() -> str:
    import tomllib

    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_the_version_comes_from_pyproject_when_the_package_is_not_installed(monkeypatch, tmp_path):
    from importlib import metadata

    from bot import cli

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert cli.version() == _pyproject_version()
    monkeypatch.setattr("bot.config.PROJECT_ROOT", tmp_path)  # nor a pyproject.toml: still an answer
    assert cli.version() == "unknown"
    (tmp_path / "pyproject.toml").write_text("[project\n")
    assert cli.version() == "unknown"


def test_a_one_shot_command_on_a_damaged_index_names_the_fix_and_leaves_it(capsys, tmp_path):
    # One-shot commands never move a file aside on their own; the console and the bot recover
    # (tests/test_glossary_safety.py), since they are what a user leaves running.
    bad = tmp_path / "index.db"
    bad.write_bytes(b"\x00" * 4096)
    code, _, err = run(capsys, "define", "attention", "--index", str(bad))
    assert code == 1 and "run `glossary-bot build --force` to move it aside" in err
    assert bad.read_bytes() == b"\x00" * 4096


# `run` after an early failure, with a model load that takes its time: the error line comes
# out first, then the wait for the load; the markers let the test press Ctrl-C at that point.
SLOW_LOAD_THEN_A_FAILING_BOT = """
import sys, threading
from bot.discord_bot import launcher
from bot.glossary.model import ModelLoader
from bot.state import StateError

ModelLoader._load_on_thread = lambda self: threading.Event().wait(60)
real_wait = ModelLoader.wait

def wait(self):
    print("waiting for the model", file=sys.stderr, flush=True)
    real_wait(self)

def run_bot(glossary, log_level):
    raise StateError("state database broken: restore it")

ModelLoader.wait = wait
launcher.run_bot = run_bot
from bot.cli import main
sys.exit(main(["run"]))
"""


def _bot_env(tmp_path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DISCORD_TOKEN": "not.a-real.token",
            "GLOSSARY_STATE_DB": str(tmp_path / "state.db")}


def _ctrl_c_as_in_a_terminal() -> None:
    # A suite started in the background by a script inherits SIGINT ignored, and Python keeps an
    # inherited "ignore" (as it should: Ctrl-C is not for background jobs). These children are
    # stand-ins for a bot in a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_the_model_still_loads_after_an_early_exit_ends_at_once_in_one_line(tmp_path):
    env = _bot_env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_LOAD_THEN_A_FAILING_BOT], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        lines = [proc.stderr.readline().strip(), proc.stderr.readline().strip()]
        assert lines == ["glossary-bot: state database broken: restore it", "waiting for the model"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130  # not the 60 s the load would still take
        assert proc.stderr.read().strip() == "interrupted"  # no "Exception ignored in threading" traceback
    finally:
        proc.kill()
        proc.wait()


CTRL_C_LANDS_ON_THE_LOADING_THREAD = SLOW_LOAD_THEN_A_FAILING_BOT.replace(
    'print("waiting for the model", file=sys.stderr, flush=True)',
    'print("waiting for the model", file=sys.stderr, flush=True)\n'
    '    import signal\n'
    '    loader = next(t for t in threading.enumerate() if t.name == "model-loader")\n'
    '    signal.pthread_kill(loader.ident, signal.SIGINT)')


def test_ctrl_c_the_kernel_hands_to_the_loading_thread_still_ends_at_once(tmp_path):
    # A terminal's Ctrl-C goes to the process, and the kernel may give it to any of its threads.
    assert CTRL_C_LANDS_ON_THE_LOADING_THREAD != SLOW_LOAD_THEN_A_FAILING_BOT
    env = _bot_env(tmp_path)
    proc = subprocess.run([sys.executable, "-c", CTRL_C_LANDS_ON_THE_LOADING_THREAD], cwd=tmp_path, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=30,
                          preexec_fn=_ctrl_c_as_in_a_terminal)
    assert proc.returncode == 130  # not after the 60 s the load would still take (timeout above)
    assert proc.stderr.splitlines() == ["glossary-bot: state database broken: restore it", "waiting for the model",
                                        "interrupted"]


def test_every_entry_printed_says_it_is_from_the_glossary(capsys, real_index_path):
    for argv in (("random",), ("define", "attention")):
        code, out, _ = run(capsys, *argv, "--index", str(real_index_path))
        assert code == 0 and "from the glossary)" in out, argv


def test_related_says_not_found_where_define_and_ask_do(capsys, real_index_path):
    code, out, err = run(capsys, "related", "how do I bake sourdough bread?", "--index", str(real_index_path))
    assert code == 3 and "doesn't cover" in out and not err


def test_an_unknown_log_level_is_a_usage_error(capsys):
    code, _, err = run(capsys, "--log-level", "LOUD", "define", "attention")
    assert code == 2 and "'LOUD' is not one of DEBUG, INFO, WARNING, ERROR" in err
    code, _, err = run(capsys, "--log-level", "info", "build", "--help")  # any case
    assert code == 0


def test_a_term_may_start_with_a_dash(capsys, real_index_path):
    for argv in (("define", "-attention"), ("define", "--json", "-attention"), ("ask", "-- attention")):
        code, out, err = run(capsys, *argv, "--index", str(real_index_path))
        assert code in (0, 3) and "usage" not in err, (argv, err)
    code, out, _ = run(capsys, "define", "--index", str(real_index_path), "--", "-attention")  # as before
    assert code in (0, 3)


def test_health_fails_when_the_bot_does_not_answer_and_falls_back_to_a_lookup(capsys, monkeypatch,
                                                                                real_index_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once closed
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    monkeypatch.setenv("DISCORD_TOKEN", "a.fake.token")
    monkeypatch.setenv("GLOSSARY_METRICS_PORT", str(port))
    assert main(["health"]) == 1 and "unhealthy" in capsys.readouterr().err
    assert main(["health", "--json"]) == 1
    said = json.loads(capsys.readouterr().out)
    assert said["healthy"] is False and said["checked"] == "healthz" and said["detail"]
    monkeypatch.delenv("DISCORD_TOKEN")  # the console's container: a lookup through the index
    assert main(["health"]) == 0
    capsys.readouterr()
    assert main(["health", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"healthy": True, "checked": "lookup", "detail": "(2+1)D"}


def test_health_of_a_console_serving_its_own_glossary(capsys, monkeypatch, tmp_path):
    # A cooking glossary has no "attention": still healthy (the Docker image's check for the console).
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "glossary.txt").write_text("Braise\nTo cook slowly in a little liquid.\nRoux\nFlour and fat cooked "
                                       "together.\n", encoding="utf-8")
    monkeypatch.setenv("GLOSSARY_DATA_DIR", str(data))
    monkeypatch.setenv("GLOSSARY_CACHE_DIR", str(PROJECT_ROOT / "data" / "cache"))  # the model, assembled once
    assert main(["build"]) == 0
    capsys.readouterr()
    assert main(["health"]) == 0 and "Braise" in capsys.readouterr().out


def test_keepers_reports_refuse_a_state_database_that_is_not_there(capsys, monkeypatch, tmp_path, real_index_path):
    # A mistyped GLOSSARY_STATE_DB once created an empty database and reported "No unanswered questions".
    missing = tmp_path / "typo" / "state.db"
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(missing))
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    for argv in (["gaps"], ["feedback", "export"]):
        assert main(argv) == 1, argv
        assert "no state database at" in capsys.readouterr().err
    assert not missing.parent.exists()


def test_keepers_reports_read_the_state_database_without_writing_to_it(capsys, monkeypatch, tmp_path, real_index_path):
    # A keeper runs the reports on a copy of the bot's database, which may be read-only: the report
    # once failed for want of a write (the migration check) it does not need.
    from bot.state import StateStore

    state = tmp_path / "state.db"
    store = StateStore(state)
    store.feedback.log_question(1, "someone", "ask", "how do I bake sourdough bread?", "not_found", None, [],
                                datetime.now(UTC))
    store.close()
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(state))
    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    before = state.read_bytes()
    assert main(["gaps", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 1
    assert main(["feedback", "export"]) == 0
    assert state.read_bytes() == before

    # a database an older release made is not updated behind the bot's back; the report says what to do
    with sqlite3.connect(state) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
    conn.close()
    behind = state.read_bytes()
    assert main(["gaps"]) == 1
    assert "run this release's bot on it once" in capsys.readouterr().err
    assert state.read_bytes() == behind


def test_gaps_takes_only_a_positive_number_of_days(capsys):
    for days in ("0", "-3", "many"):
        assert main(["gaps", "--days", days]) == 2, days
        assert "--days" in capsys.readouterr().err


def test_gaps_takes_only_a_server_id_for_guild(capsys):
    # A number past SQLite's integers printed a traceback (QA68); a negative one was taken silently.
    for guild in ("99999999999999999999999", "-5", "0", "general"):
        assert main(["gaps", "--guild", guild]) == 2, guild
        assert "--guild" in capsys.readouterr().err


def test_gaps_never_writes_a_members_terminal_escapes_to_the_keepers_terminal(capsys, monkeypatch, tmp_path,
                                                                              real_index_path):
    # Questions are logged as members type them: "\x1b]0;…\x07" retitled the keeper's window, "\x1b[2J"
    # cleared the screen, OSC 52 can write the clipboard (QA68).
    from bot.state import StateStore

    monkeypatch.setenv("GLOSSARY_INDEX", str(real_index_path))
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(tmp_path / "state.db"))
    store = StateStore(tmp_path / "state.db")
    try:
        question = "how do I knit a \x1b]0;PWNED\x07scarf \x1b[2J\x1b[31mwith wool?"
        store.feedback.log_question(1, "member", "ask", question, "not_found", None, [], datetime.now(UTC))
        rows = store.db.query("SELECT query FROM questions")
        assert rows and "\x1b" not in rows[0][0] and "knit" in rows[0][0]  # kept without them
        with store.db.transaction() as conn:  # as an earlier release logged it, escapes and all
            conn.execute("UPDATE questions SET query = ?", [question])
    finally:
        store.close()
    assert main(["gaps"]) == 0
    out = capsys.readouterr().out
    assert "knit" in out and "\x1b" not in out and "\x07" not in out, out


def test_the_bots_log_is_plain_text_under_no_color(monkeypatch):
    """discord.py colours its log lines at a terminal and in any container, log files included;
    NO_COLOR (no-color.org) asks for none."""
    import logging

    import discord

    from bot.discord_bot import launcher

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    monkeypatch.setattr(discord.utils, "stream_supports_colour", lambda stream: True)  # a terminal, or Docker
    try:
        monkeypatch.setenv("NO_COLOR", "1")
        launcher._setup_logging("INFO")
        assert not any(isinstance(h.formatter, discord.utils._ColourFormatter) for h in root.handlers)
        monkeypatch.delenv("NO_COLOR")
        launcher._setup_logging("INFO")
        assert any(isinstance(h.formatter, discord.utils._ColourFormatter) for h in root.handlers)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)
        root.setLevel(level)
