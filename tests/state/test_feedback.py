"""Logged questions, votes, server aliases and notes on each backend (real SQLite and PostgreSQL): one vote per
user per answer (changeable), export in the eval format, retention, limits, the change log,
and no raw user id anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.state.additions import ALIASES_PER_SERVER, AdditionError
from bot.state.feedback import DOWN, GAPS_PER_ASKER, NOT_IN_GLOSSARY, UP, hash_key, user_hasher

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_user_hashes_are_stable_per_secret_and_not_the_id() -> None:
    hashed = user_hasher("token-a")
    assert hashed(123) == hashed(123) != user_hasher("token-b")(123)
    assert "123" not in hashed(123) and len(hashed(123)) == 24


def test_one_vote_per_user_changeable_and_exported_as_eval_cases(store) -> None:
    feedback = store.feedback
    q1 = feedback.log_question(5, "u1", "ask", "what is lora", "answer", "LoRA", ["LoRA", "QLoRA"], NOW)
    q2 = feedback.log_question(5, "u2", "ask", "how do i stop overfitting", "answer", "Dropout",
                               ["Dropout", "Regularisation"], NOW)
    q3 = feedback.log_question(5, "u3", "study", "when is neurips", "not_found", None, ["SLO"], NOW)
    assert feedback.vote(q1, "u1", UP, NOW) and feedback.vote(q1, "u9", UP, NOW)
    assert feedback.vote(q2, "u2", DOWN, NOW) and feedback.set_wanted(q2, "u2", "Regularisation")
    assert not feedback.set_wanted(q1, "u1", "QLoRA")  # a 👍 has no "wanted"
    feedback.vote(q3, "u3", DOWN, NOW)
    feedback.set_wanted(q3, "u3", NOT_IN_GLOSSARY)
    assert feedback.vote(q1, "u9", DOWN, NOW)  # changed their mind: still one vote
    assert sorted(v for _, v, _ in feedback.votes(q1)) == [DOWN, UP]
    assert not feedback.vote(10**6, "u1", UP, NOW)

    cases, disagreed = feedback.export()
    assert disagreed == 0
    assert [(c["kind"], c["query"], c["expected"]) for c in cases] == [
        ("feedback-confirmed", "what is lora", ["LoRA"]),
        ("feedback-corrected", "how do i stop overfitting", ["Regularisation"]),
        ("feedback-corrected", "when is neurips", []),
    ]
    assert len({c["id"] for c in cases}) == 3

    # refused, and 👎 without a pick of another entry (u9's); a 👎 that picked an entry the
    # glossary has (q2) is a ranking miss, not a gap
    gaps = [q.query for q in feedback.gap_questions(NOW - timedelta(days=1))]
    assert gaps == ["what is lora", "when is neurips"]
    usage = feedback.usage(NOW - timedelta(days=1), 5)
    assert (usage.questions, usage.answered, usage.refused, usage.up, usage.down) == (3, 2, 1, 1, 3)
    assert usage.top_terms[0][1] == 1


def test_a_comparison_confirmed_expects_every_entry_it_showed(store) -> None:
    """QA57: a 👍 on "lora vs qlora" exported a case expecting LoRA alone."""
    feedback = store.feedback
    compared = feedback.log_question(5, "u1", "ask", "lora vs qlora", "answer", "LoRA", ["LoRA", "QLoRA", "DoRA"],
                                     NOW, "mention", sides=["LoRA", "QLoRA"])
    hedged = feedback.log_question(5, "u1", "ask", "gqa or mqa?", "suggest", None, ["GQA", "MQA"], NOW,
                                   sides=["GQA", "MQA"])  # unsure which is meant, but both are shown
    assert feedback.question(compared).sides == ("LoRA", "QLoRA")
    for question in (compared, hedged):
        feedback.vote(question, "u2", UP, NOW)
    cases, _ = feedback.export()
    assert [(c["query"], c["expected"]) for c in cases] == [("lora vs qlora", ["LoRA", "QLoRA"]),
                                                             ("gqa or mqa?", ["GQA", "MQA"])]


def test_contradictory_votes_on_a_question_export_no_case_and_are_counted(store) -> None:
    """QA57: a 👍 and a 👎 with a pick on the same question exported two cases for one query."""
    feedback = store.feedback
    later = NOW + timedelta(minutes=5)
    split = feedback.log_question(5, "u1", "ask", "what is lora", "answer", "LoRA", ["LoRA", "QLoRA"], NOW)
    feedback.vote(split, "u2", UP, NOW)
    feedback.vote(split, "u3", DOWN, NOW)
    feedback.set_wanted(split, "u3", "QLoRA")
    picks = feedback.log_question(5, "u1", "ask", "what is nf4", "answer", "QLoRA", ["QLoRA", "NF4"], NOW)
    for voter, wanted in (("u2", "NF4"), ("u3", NOT_IN_GLOSSARY)):
        feedback.vote(picks, voter, DOWN, NOW)
        feedback.set_wanted(picks, voter, wanted)
    # the same question asked again: one person's later vote is what they think now
    first = feedback.log_question(5, "u1", "ask", "what is dropout", "answer", "Dropout", ["Dropout"], NOW)
    again = feedback.log_question(5, "u4", "study", "What is  dropout", "answer", "Dropout", ["Dropout"], later)
    feedback.vote(first, "u5", DOWN, NOW)
    feedback.set_wanted(first, "u5", NOT_IN_GLOSSARY)
    feedback.vote(again, "u5", UP, later)
    feedback.vote(again, "u6", UP, later)  # and two who agree make one case
    # a 👎 without a pick says too little to disagree with anyone
    bare = feedback.log_question(5, "u1", "ask", "what is adamw", "answer", "AdamW", ["AdamW"], NOW)
    feedback.vote(bare, "u2", UP, NOW)
    feedback.vote(bare, "u3", DOWN, NOW)

    cases, disagreed = feedback.export()
    assert disagreed == 2
    assert [(c["id"], c["kind"], c["query"], c["expected"]) for c in cases] == [
        (f"feedback-{first}-Dropout", "feedback-confirmed", "what is dropout", ["Dropout"]),
        (f"feedback-{bare}-AdamW", "feedback-confirmed", "what is adamw", ["AdamW"]),
    ]


def test_retention_deletes_old_questions_and_their_votes(store) -> None:
    feedback = store.feedback
    old = feedback.log_question(5, "u1", "ask", "old question", "not_found", None, [], NOW - timedelta(days=91))
    feedback.vote(old, "u1", DOWN, NOW - timedelta(days=91))
    feedback.log_question(5, "u1", "ask", "new question", "not_found", None, [], NOW)
    assert feedback.purge(NOW - timedelta(days=90)) == 1
    assert [q.query for q in feedback.gap_questions(NOW - timedelta(days=400))] == ["new question"]
    assert store.db.query("SELECT count(*) FROM votes")[0][0] == 0


def test_aliases_and_notes_are_per_server_limited_and_logged(store) -> None:
    additions = store.additions
    assert additions.add_alias(1, "ytdl", "youtube-dl", "h", "mod", NOW) == "ytdl"
    assert additions.alias_target(1, "YTDL") == "youtube-dl" and additions.alias_target(2, "ytdl") is None
    # (QA76: timestamps, command mentions and custom emoji were kept, and lists showed their raw ids)
    for bad in ("<@123>", "@everyone hi", "see https://x.y", "", "x" * 61, "[a](b)", "<t:1700000000:R>",
                "</ask:123456789012345678>", "<:pepe:123456789012345678>", "<a:dance:123456789012345678>"):
        with pytest.raises(AdditionError):
            additions.add_alias(1, bad, "LoRA", "h", "mod", NOW)
        if bad and len(bad) <= 60:  # (a note may be longer)
            with pytest.raises(AdditionError):
                additions.set_note(1, "LoRA", f"Lab 3 {bad}", "h", "mod", NOW)
    assert additions.add_alias(9, "a <b> c", "LoRA", "h", "mod", NOW) == "a <b> c"  # angle brackets alone are text
    additions.set_note(1, "LoRA", "Our course uses rank 8 in lab 3.", "h", "mod", NOW)
    assert additions.note(1, "LoRA").startswith("Our course") and additions.note(2, "LoRA") is None
    assert additions.remove_alias(1, "YTDL ", "h", "mod", NOW) == ("ytdl", "youtube-dl")  # as it was written
    assert additions.remove_alias(1, "ytdl", "h", "mod", NOW) is None
    assert [c.action for c in additions.changes(1)] == ["alias remove", "note set", "alias add"]
    for i in range(ALIASES_PER_SERVER):
        additions.add_alias(3, f"alias {i}", "LoRA", "h", "mod", NOW)
    with pytest.raises(AdditionError, match="already has"):
        additions.add_alias(3, "one more", "LoRA", "h", "mod", NOW)
    additions.add_alias(3, "alias 0", "Dropout", "h", "mod", NOW)  # changing one is fine


def test_the_hash_key_lives_beside_the_database_and_survives_restarts(tmp_path) -> None:
    state = tmp_path / "state.db"
    first = hash_key(state)
    assert hash_key(state) == first and len(first) == 64
    key_file = tmp_path / "state.db.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert hash_key(state, "configured") == "configured"  # GLOSSARY_HASH_KEY wins


def test_forgetting_a_user_blanks_their_name_in_the_change_log_and_alias_answers_are_not_exported(store) -> None:
    store.additions.add_alias(1, "ytdl", "youtube-dl", "hash-m", "mod#1", NOW)
    store.additions.add_alias(1, "hf", "Hugging Face", "hash-o", "other", NOW)
    question = store.feedback.log_question(1, "hash-u", "ask", "ytdl", "answer", "youtube-dl", ["youtube-dl"], NOW,
                                           "server_alias")
    store.feedback.vote(question, "hash-u", UP, NOW)
    assert store.feedback.export().cases == []  # one server's own name is no case for the glossary's search
    assert store.feedback.forget("hash-m") == (0, 1)  # nothing of theirs deleted, their name off one change
    assert [c.by_name for c in store.additions.changes(1)] == ["other", "(forgotten)"]
    assert store.db.query("SELECT count(*) FROM server_changes WHERE by_hash = 'hash-m'")[0][0] == 0


def test_an_edited_question_is_logged_anew_and_its_earlier_row_keeps_its_votes(store) -> None:
    feedback = store.feedback
    typo = feedback.log_question(5, "u1", "study", "what is lroa", "not_found", None, ["LoRA"], NOW)
    assert feedback.vote(typo, "u2", DOWN, NOW)  # cast on the typo's answer: it stays there
    fixed = feedback.log_question(5, "u1", "study", "what is lora", "answer", "LoRA", ["LoRA"], NOW, replaces=typo)
    again = feedback.log_question(5, "u1", "study", "what is qlora", "answer", "QLoRA", ["QLoRA"], NOW,
                                  replaces=fixed)
    rows = store.db.query("SELECT question_id, query, replaced_by FROM questions ORDER BY question_id")
    assert rows == [(typo, "what is lroa", fixed), (fixed, "what is lora", again), (again, "what is qlora", None)]
    assert [v for _, v, _ in feedback.votes(typo)] == [DOWN] and feedback.votes(fixed) == []

    # counted once, as its last text; the 👎 on the typo's answer still counts and is still a gap
    usage = feedback.usage(NOW - timedelta(days=1), 5)
    assert (usage.questions, usage.answered, usage.refused, usage.down) == (1, 1, 0, 1)
    assert [q.query for q in feedback.gap_questions(NOW - timedelta(days=1))] == ["what is lroa"]
    untouched = feedback.log_question(5, "u3", "study", "when is neurips", "not_found", None, [], NOW)
    feedback.log_question(5, "u3", "study", "when is icml", "not_found", None, [], NOW, replaces=untouched)
    assert [q.query for q in feedback.gap_questions(NOW - timedelta(days=1))] == ["what is lroa", "when is icml"]

    # a replaced question already gone (retention, /forget-me): the new one is logged all the same
    assert feedback.log_question(5, "u1", "study", "what is adam", "answer", "Adam", [], NOW, replaces=10**9) > again


def test_a_vote_racing_the_askers_forget_me_in_another_process_is_refused_cleanly(postgres_server,
                                                                                  monkeypatch) -> None:
    """Bob votes 👍 on the answer to Alice's question in one process while Alice's /forget-me runs
    in another: her question must not go between the vote's check that it exists and its INSERT,
    which PostgreSQL's foreign key would refuse ("Something went wrong." for Bob). SQLite
    serialises the two by itself."""
    import threading
    import time

    import psycopg

    from bot.state import StateStore
    from bot.state import db as state_db

    url = postgres_server.create_database("vote_forget_race")
    voter, forgetter = StateStore(url), StateStore(url)
    watcher = psycopg.connect(url, autocommit=True)
    try:
        question = voter.feedback.log_question(1, "alice", "ask", "what is lora", "answer", "LoRA", ["LoRA"], NOW)
        forget = threading.Thread(target=forgetter.feedback.forget, args=["alice"])
        execute = state_db._PostgresTransaction.execute

        def forget_meanwhile(self, sql, params=()):
            cursor = execute(self, sql, params)
            if sql.startswith("SELECT 1 FROM questions") and not forget.is_alive():
                forget.start()  # the other process: done at once, or waiting for this vote's lock
                deadline = time.monotonic() + 10
                while forget.is_alive() and time.monotonic() < deadline and not watcher.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0]:
                    time.sleep(0.02)
            return cursor

        monkeypatch.setattr(state_db._PostgresTransaction, "execute", forget_meanwhile)
        try:
            recorded = voter.feedback.vote(question, "bob", UP, NOW)  # raised ForeignKeyViolation
        finally:
            monkeypatch.undo()
            forget.join(10)
        assert recorded  # in before the forget, which then took it away with the question
        assert not forget.is_alive() and voter.feedback.question(question) is None
        assert voter.db.query("SELECT count(*) FROM votes")[0][0] == 0
        assert not voter.feedback.vote(question, "bob", UP, NOW)  # now gone: refused
    finally:
        watcher.close()
        voter.close()
        forgetter.close()


def test_one_person_asking_on_and_on_does_not_push_everyone_elses_gaps_out(store) -> None:
    """The gaps report reads the newest 1,000 questions: a member who sends the same junk question
    1,000 times must not leave the seven questions other people asked out of it."""
    hashed, day = user_hasher("k"), datetime(2026, 11, 1, tzinfo=UTC)
    real = {"how do I bake sourdough bread?": 4, "how do I give a docker container my gpu?": 3}
    for text, people in real.items():
        for person in range(people):
            store.feedback.log_question(5, hashed(100 + person), "ask", text, "not_found", None, [], day)
    with store.db.transaction() as conn:  # 1,000 rows at once: the test is about reading them
        conn.executemany(
            "INSERT INTO questions (guild_id, user_hash, asked_at, source, query, band, candidates) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(5, hashed(666), (day + timedelta(hours=1, seconds=i)).isoformat(timespec="seconds"), "ask",
              "what is the meaning of bread bread?", "not_found", "[]") for i in range(1000)])
    logged = store.feedback.gap_questions(day - timedelta(days=1), 5)
    assert sum(q.query in real for q in logged) == 7
    assert sum(q.user_hash == hashed(666) for q in logged) == GAPS_PER_ASKER


def test_an_entry_renamed_between_votes_or_lookups_counts_as_one(store) -> None:
    """QA71: the keepers renamed KV cache (its old name kept as an alias) between two 👍 on one question:
    the export left the question out as one its voters "disagreed" on, and `/glossary stats` counted
    the entry's lookups under two names. A merge (Dropout into Regularisation) reads the same way."""
    feedback = store.feedback
    now_named = {"KV cache": "Key-value cache", "Dropout": "Regularisation"}.get
    name_now = lambda term: now_named(term, None if term == "Gone" else term)  # noqa: E731
    before = feedback.log_question(5, "u1", "ask", "what is a kv cache", "answer", "KV cache", [], NOW)
    after = feedback.log_question(5, "u2", "ask", "What is a KV cache", "answer", "Key-value cache", [], NOW)
    assert feedback.vote(before, "u1", UP, NOW) and feedback.vote(after, "u2", UP, NOW)
    merged = feedback.log_question(5, "u3", "ask", "dropout vs regularisation", "answer", "Dropout", [], NOW,
                                   "mention", sides=["Dropout", "Regularisation"])
    assert feedback.vote(merged, "u3", UP, NOW)
    gone = feedback.log_question(5, "u4", "ask", "what is gone", "answer", "Gone", [], NOW)
    assert feedback.vote(gone, "u4", UP, NOW)

    assert feedback.export().disagreed == 1  # as stored, the two names differ
    cases, disagreed = feedback.export(name_now)
    assert disagreed == 0
    assert [(c["query"], c["expected"]) for c in cases] == [
        ("what is a kv cache", ["Key-value cache"]), ("dropout vs regularisation", ["Regularisation"]),
        ("what is gone", ["Gone"])]  # a gone entry keeps its name, for the caller to leave out

    feedback.log_question(5, "u5", "ask", "what is adam", "answer", "Adam", [], NOW)
    usage = feedback.usage(NOW - timedelta(days=1), 5, 5, name_now)
    assert usage.top_terms[0] == ("Key-value cache", 2) and ("Gone", 1) in usage.top_terms
    assert ("KV cache", 1) in feedback.usage(NOW - timedelta(days=1), 5).top_terms


def test_a_bot_whose_key_file_was_lost_or_replaced_is_refused_at_start_and_the_database_keeps_its_key(
        tmp_path, monkeypatch, capsys) -> None:
    """state.db.key deleted (a volume rebuilt, a copy without it) made a new key at the next start,
    and every member's earlier questions and votes were out of their /forget-me's reach."""
    import contextlib

    from bot.cli import main
    from bot.state import StateStore
    from bot.state.feedback import checked_key, key_file

    path = tmp_path / "state.db"
    with contextlib.closing(StateStore(path)) as state:
        first = checked_key(state.feedback, state.where, path, None)  # the first start makes and records it
        assert checked_key(state.feedback, state.where, path, None) == first  # and every start after finds it
    key_file(path).unlink()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(path))
    monkeypatch.setenv("DISCORD_TOKEN", "not.a-real.token")
    for name in ("GLOSSARY_HASH_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run"]) == 78
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and f"{key_file(path)} is missing" in said and "Put it back" in said, said
    assert not key_file(path).exists()  # no new one made in the way of the old one coming back
    key_file(path).write_text("a-key-made-anew\n", encoding="ascii")  # replaced, by hand or a copy
    assert main(["run"]) == 78
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and f"{key_file(path)} is not the key" in said and "Put back" in said, said
    key_file(path).write_text(first + "\n", encoding="ascii")  # put back: it starts as before
    with contextlib.closing(StateStore(path)) as state:
        assert checked_key(state.feedback, state.where, path, None) == first
