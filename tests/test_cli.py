import json
import os
import signal
import threading
import time

from bot.cli import main


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
    assert code == 0 and set(data) == {"overall", "by_kind", "refusal", "false_refusal"}
    assert data["overall"]["hit@1"] == 1.0 and data["refusal"] == 1.0 and data["false_refusal"] == 0.0


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
    assert main(["define", "-attention"]) == 2  # looks like an option; `define -- -attention` works
    assert "usage: glossary-bot" in capsys.readouterr().err


def test_damaged_index_names_the_fix_and_run_exits_78(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env, so no DISCORD_TOKEN: `run` would start the console
    bad = tmp_path / "index.db"
    bad.write_bytes(b"\x00" * 4096)
    code, _, err = run(capsys, "define", "attention", "--index", str(bad))
    assert code == 1 and "run `glossary-bot build --force` to move it aside" in err
    code, _, err = run(capsys, "run", "--index", str(bad))
    assert code == 78 and len(err.strip().splitlines()) == 2  # the no-token notice, then the one error line
    assert bad.read_bytes() == b"\x00" * 4096


def test_ctrl_c_while_the_model_still_loads_after_an_early_exit_is_one_line(capsys, tmp_path, monkeypatch):
    """`run` stopped early (a bad token, say) waits for the background model load before it
    exits; a Ctrl-C then ends as "interrupted" and 130, not a traceback from Python's shutdown."""
    from bot.discord_bot import launcher
    from bot.glossary.model import ModelLoader

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "not-a-real-token")
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(tmp_path / "state.db"))
    release, bot_returned = threading.Event(), threading.Event()
    monkeypatch.setattr(ModelLoader, "_load_on_thread", lambda self: release.wait(30))  # a load that takes its time
    monkeypatch.setattr(launcher, "run_bot", lambda glossary, log_level: bot_returned.set() or 78)

    def press_ctrl_c() -> None:
        if bot_returned.wait(30):
            time.sleep(0.2)  # the main thread is waiting for the loader by now
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        code, _, err = run(capsys, "run")
    finally:
        release.set()
        presser.join()
    assert code == 130 and err.strip() == "interrupted"
