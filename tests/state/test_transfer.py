"""`glossary-bot state migrate --to postgresql://…`: every row of a used SQLite state database
arrives in PostgreSQL, the bot's reads give the same answers there, new rows get new ids, and
a database that already has data is refused."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime

import pytest

from bot.cli import main
from bot.state import StateStore
from bot.state.transfer import tables

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _used_state(path) -> None:
    store = StateStore(path)
    store.update_config(111, study_channels=(501,), daily_channel_id=601, daily_enabled=True, daily_quiz=True,
                        champion_role_id=7, editor_role_id=8)
    store.claim_daily_post(111, date(2026, 11, 19), ["Attention", "LoRA", "Dropout"])
    store.finish_daily_post(111, date(2026, 11, 19))
    study = store.study
    study.add_card(10**18, "LoRA", NOW)
    card = study.next_due(10**18, NOW)
    study.rate(card.card_id, 10**18, 0, "good", NOW, 111)
    study.set_reminder(10**18, True)
    study.record_answer(111, 10**18, "solo:x", True, 5, NOW)
    from bot.state.study import RoundQuestion

    study.start_round(111, 501, 10**18, [RoundQuestion("term", "A", ("A", "B", "C", "D"))], 30, NOW)
    question = store.feedback.log_question(111, "hash", "ask", "what is lora", "answer", "LoRA", ["LoRA"], NOW)
    store.feedback.vote(question, "hash", -1, NOW)
    store.feedback.set_wanted(question, "hash", "QLoRA")
    store.feedback.log_question(111, "hash", "study", "what is qlora", "answer", "QLoRA", ["QLoRA"], NOW,
                                replaces=question)  # an edit: the earlier row names a later one
    store.additions.add_alias(111, "ytdl", "youtube-dl", "hash", "mod", NOW)
    store.additions.set_note(111, "LoRA", "Lab 4.", "hash", "mod", NOW)
    store.close()


def _dump(store: StateStore) -> dict[str, list]:
    return {name: sorted(map(tuple, store.db.query(f"SELECT * FROM {name}")), key=repr) for name in tables(store)}


def test_migrating_to_postgresql_loses_nothing(tmp_path, postgres_server, monkeypatch, capsys) -> None:
    source_path = tmp_path / "state.db"
    _used_state(source_path)
    url = postgres_server.create_database("migrated")
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))

    assert main(["state", "migrate", "--to", url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    source, target = StateStore(source_path), StateStore(url)
    try:
        assert report["copied"]["review_cards"] == 1
        assert _dump(target) == _dump(source)
        assert all(report["copied"][name] == len(rows) for name, rows in _dump(source).items())
        assert target.config(111) == source.config(111)
        assert target.study.leaderboard(111, "2026-11") == source.study.leaderboard(111, "2026-11")
        assert target.feedback.export() == source.feedback.export()
        assert target.additions.alias_target(111, "YTDL") == "youtube-dl"
        # the bot carries on there: new rows get ids after the copied ones
        assert target.study.add_card(10**18, "Dropout", NOW)
        ids = sorted(i for (i,) in target.db.query("SELECT card_id FROM review_cards"))
        assert ids[-1] > ids[0]
        assert target.feedback.log_question(111, "h2", "ask", "q", "not_found", None, [], NOW) > 1
    finally:
        source.close()
        target.close()

    assert main(["state", "migrate", "--to", url]) == 1  # not into a database with data
    assert "already has data" in capsys.readouterr().err


def test_a_bot_still_writing_during_the_copy_cannot_make_it_disagree_with_itself(tmp_path, postgres_server,
                                                                                  monkeypatch, capsys) -> None:
    """The bot left running: a member asks and another votes 👍 while the copy runs, after its read
    of `questions` and before its read of `votes`. Each table read on its own gave a vote without
    its question, PostgreSQL refused it, and the command told the admin to delete that healthy row.
    The copy is the state at one moment; the output says the bot should have been stopped."""
    from bot.state.db import SqliteDatabase

    source_path = tmp_path / "state.db"
    _used_state(source_path)
    running_bot = StateStore(source_path)
    before = _dump(running_bot)
    read, written = SqliteDatabase.query, []

    def bot_writes_meanwhile(self, sql, params=()):
        rows = read(self, sql, params)
        if self is not running_bot.db and sql.rstrip().endswith("FROM questions") and not written:
            asked = running_bot.feedback.log_question(111, "a", "ask", "what is rag", "answer", "RAG", ["RAG"], NOW)
            written.append(running_bot.feedback.vote(asked, "b", 1, NOW))
        return rows

    monkeypatch.setattr(SqliteDatabase, "query", bot_writes_meanwhile)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))
    url = postgres_server.create_database("migrated_live")
    try:
        assert main(["state", "migrate", "--to", url]) == 0, capsys.readouterr().err
        monkeypatch.undo()
        assert written == [True]
        out = capsys.readouterr().out
        assert "as the copy began" in out and "stopped first" in out and "not moved" in out
        target = StateStore(url)
        try:
            assert _dump(target) == before  # the state as the copy began, every table of it
        finally:
            target.close()
    finally:
        running_bot.close()


def test_after_migrating_the_tools_name_the_hash_key_the_users_were_stored_under(tmp_path, postgres_server,
                                                                                 monkeypatch, capsys) -> None:
    # Both said to set only DATABASE_URL, or to make a fresh GLOSSARY_HASH_KEY: every logged question
    # and vote then belonged to nobody, and /forget-me no longer found a member's questions.
    from bot.config import ConfigError, Settings
    from bot.state.feedback import hash_key

    source_path = tmp_path / "state.db"
    _used_state(source_path)
    key = hash_key(source_path)  # made beside the database by the bot's first start
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))
    monkeypatch.delenv("GLOSSARY_HASH_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert main(["state", "migrate", "--to", postgres_server.create_database("keyed")]) == 0
    said = capsys.readouterr().out
    assert "GLOSSARY_HASH_KEY" in said and f"{source_path}.key" in said
    assert key not in said  # the file is named, the secret is not shown
    with pytest.raises(ConfigError) as unkeyed:
        Settings.load(environ={"GLOSSARY_STATE_DB": str(source_path),
                               "DATABASE_URL": "postgresql://bot:s3cret@db/glossary"}, dotenv=tmp_path / ".env")
    assert "state migrate" in str(unkeyed.value) and f"{source_path}.key" in str(unkeyed.value)


def test_a_database_url_needs_a_hash_key_and_is_never_echoed(monkeypatch) -> None:
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="GLOSSARY_HASH_KEY"):
        Settings.load(environ={"DATABASE_URL": "postgresql://bot:s3cret@db/glossary"})
    with pytest.raises(ConfigError) as bad:
        Settings.load(environ={"DATABASE_URL": "mysql://bot:s3cret@db/glossary", "GLOSSARY_HASH_KEY": "k"})
    assert "s3cret" not in str(bad.value)
    settings = Settings.load(environ={"DATABASE_URL": "postgresql://bot:s3cret@db/glossary", "GLOSSARY_HASH_KEY": "k"})
    assert settings.state_target.startswith("postgresql://") and "s3cret" not in repr(settings)


def test_a_password_with_an_unescaped_at_is_neither_echoed_nor_tried() -> None:
    """QA75: "postgresql://bot:p@ss@host/db" showed "bot:***@ss@host" and psycopg's "failed to resolve
    host 'ss@host'": part of the password on stderr and in the logs, and no word of the fix."""
    from bot.state.db import StateError

    with pytest.raises(StateError) as bad:
        StateStore("postgresql://bot:p@ss@127.0.0.1:1/cfg")
    said = str(bad.value)
    assert "ss@" not in said and "p@" not in said and "%40" in said, said


def test_migrate_to_anything_but_a_postgresql_url_says_so_and_creates_nothing(tmp_path, monkeypatch, capsys) -> None:
    # "mysql://nope" was taken for an SQLite path: a folder "mysql:" and a state database in it appeared.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(tmp_path / "state.db"))
    assert main(["state", "migrate", "--to", "mysql://nope"]) == 1
    assert "needs a PostgreSQL URL" in capsys.readouterr().err
    assert not (tmp_path / "mysql:").exists()


def test_migrating_a_state_database_that_is_not_there_is_refused(tmp_path, postgres_server, monkeypatch,
                                                                  capsys) -> None:
    # A mistyped GLOSSARY_STATE_DB (or an unmounted volume) was opened as a new, empty database and
    # "migrated": 0 rows copied, exit 0, and after the switch every deck and setting seemed gone.
    url = postgres_server.create_database("from_nowhere")
    missing = tmp_path / "nowhere" / "state.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(missing))
    assert main(["state", "migrate", "--to", url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and "GLOSSARY_STATE_DB" in err
    assert not missing.parent.exists()
    target = StateStore(url)
    try:
        assert not any(target.db.query(f"SELECT count(*) FROM {name}")[0][0] for name in tables(target))
    finally:
        target.close()


def test_a_row_postgresql_refuses_is_named_in_one_line_and_nothing_is_copied(tmp_path, postgres_server,
                                                                             monkeypatch, capsys) -> None:
    # SQLite keeps a NUL character in text, PostgreSQL refuses it: the migration ended in a traceback.
    source_path = tmp_path / "state.db"
    _used_state(source_path)
    store = StateStore(source_path)
    store.feedback.log_question(111, "hash", "ask", "what is lora", "answer", "LoRA", ["LoRA"], NOW)
    with store.db.transaction() as conn:  # as an earlier release logged it (the NUL is now dropped on the way in)
        conn.execute("UPDATE questions SET query = ?", ["what is lora\x00"])
    store.close()
    url = postgres_server.create_database("refused_row")
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))

    assert main(["state", "migrate", "--to", url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "questions" in err and str(source_path) in err
    target = StateStore(url)
    try:
        assert not any(target.db.query(f"SELECT count(*) FROM {name}")[0][0] for name in tables(target))
    finally:
        target.close()
    assert main(["state", "migrate", "--to", url]) == 1  # still empty, so it is only the row again
    assert "already has data" not in capsys.readouterr().err


def test_an_unreachable_postgresql_is_one_line_at_once(tmp_path) -> None:
    # The connection pool's reconnect loop printed a two-line warning per attempt for 15 s before it.
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    _used_state(tmp_path / "state.db")
    env = {**os.environ, "GLOSSARY_STATE_DB": str(tmp_path / "state.db")}
    done = subprocess.run([sys.executable, "-m", "bot", "state", "migrate", "--to",
                           f"postgresql://bot:s3cret@127.0.0.1:{port}/glossary"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "check DATABASE_URL" in done.stderr
    assert "s3cret" not in done.stderr


def test_migrating_a_state_file_that_holds_nothing_warns(tmp_path, postgres_server, monkeypatch, capsys) -> None:
    # A state file the bot never wrote to (made before its first start, or another folder's) "succeeded"
    # with 0 rows and nothing more said: the admin found out when every member's cards were gone.
    source_path = tmp_path / "state.db"
    StateStore(source_path).close()
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))

    assert main(["state", "migrate", "--to", postgres_server.create_database("from_nothing")]) == 0
    said = capsys.readouterr()
    assert "copied 0 rows" in said.out
    assert "holds no rows" in said.err and "GLOSSARY_STATE_DB" in said.err

    assert main(["state", "migrate", "--to", postgres_server.create_database("from_nothing_json"), "--json"]) == 0
    assert "holds no rows" in json.loads(capsys.readouterr().out)["warning"]


def test_a_database_a_bot_was_only_started_on_is_still_empty_for_a_migration(tmp_path, postgres_server,
                                                                            monkeypatch, capsys) -> None:
    """QA71: the admin set DATABASE_URL and started the bot once before migrating: its start recorded
    when it identified, and the migration refused the database as holding data, naming no member's."""
    source_path = tmp_path / "state.db"
    _used_state(source_path)
    url = postgres_server.create_database("tried_first")
    tried = StateStore(url)
    tried.record_identify(0, 1_700_000_000.0)  # what a start writes before anyone does anything
    tried.close()
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))

    assert main(["state", "migrate", "--to", url]) == 0, capsys.readouterr().err
    source, target = StateStore(source_path), StateStore(url)
    try:
        assert _dump(target) == _dump(source)
        target.update_config(111, daily_time="08:00")
    finally:
        source.close()
        target.close()
    assert main(["state", "migrate", "--to", url]) == 1  # a database with members' data still is not
    err = capsys.readouterr().err
    assert "already has data" in err and "guild_config (1 row)" in err, err


def test_a_database_a_bot_is_still_running_on_is_not_migrated_into(tmp_path, postgres_server, monkeypatch,
                                                                   capsys) -> None:
    """Review 54: with the trial start's row no longer counted, nothing stopped a migration into a
    database bots were still serving from (compose restarts them): their writes collide with the copy."""
    source_path = tmp_path / "state.db"
    _used_state(source_path)
    url = postgres_server.create_database("still_served")
    running_bot = StateStore(url)  # a bot's connection, open
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))
    try:
        assert main(["state", "migrate", "--to", url]) == 1
        err = capsys.readouterr().err
        assert "other connection" in err and "stop every bot on it" in err and " as " in err, err
        assert not any(running_bot.db.query(f"SELECT count(*) FROM {name}")[0][0] for name in tables(running_bot)
                       if name != "schema_migrations")
    finally:
        running_bot.close()
    assert main(["state", "migrate", "--to", url]) == 0, capsys.readouterr().err


def test_a_session_writing_to_the_target_holds_the_copy_back_and_nothing_is_mixed(tmp_path, postgres_server,
                                                                                  monkeypatch, capsys) -> None:
    """The emptiness checks and the copy are one transaction holding every table: a session in the
    middle of a write (a bot's, a psql one) keeps it from starting, and the admin is told; nothing is
    copied beside that session's row (checked first and copied after, they could be mixed)."""
    import psycopg

    from bot.state import transfer

    source_path = tmp_path / "state.db"
    _used_state(source_path)
    url = postgres_server.create_database("written_meanwhile")
    StateStore(url).close()  # at the newest schema
    monkeypatch.setattr(transfer, "LOCK_WAIT_MS", 300)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))
    with psycopg.connect(url) as writer:  # a transaction open with a row written, not committed
        writer.execute("INSERT INTO guild_config (guild_id) VALUES (999)")
        assert main(["state", "migrate", "--to", url]) == 1
        err = capsys.readouterr().err
        assert "another session is writing to the target database" in err and "nothing was copied" in err, err
        writer.rollback()
    target = StateStore(url)
    try:
        assert not any(target.db.query(f"SELECT count(*) FROM {name}")[0][0] for name in tables(target))
    finally:
        target.close()
    assert main(["state", "migrate", "--to", url]) == 0, capsys.readouterr().err


def test_a_role_that_may_only_read_the_state_is_refused_at_start_with_the_grant(postgres_server) -> None:
    """QA75: a read-only grant by mistake started the bot, whose first write (its IDENTIFY turn)
    failed every 5 s for ever, each traceback longer; said at start, as a read-only SQLite file is."""
    import psycopg

    from bot.state.db import StateError

    url = postgres_server.create_database("read_only_role")
    StateStore(url).close()  # at the newest schema, owned by the server's superuser
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS reader")
        admin.execute("CREATE ROLE reader LOGIN")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    with pytest.raises(StateError) as refused:
        StateStore(url.replace("postgresql://postgres@", "postgresql://reader@"))
    said = str(refused.value)
    assert "role reader may not write its tables" in said and "GRANT SELECT, INSERT, UPDATE, DELETE" in said, said
    # granted what it needs, and no more (no CREATE on the schema, PostgreSQL 15's default): it starts
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO reader")
    served = StateStore(url.replace("postgresql://postgres@", "postgresql://reader@"))
    try:
        served.update_config(111, daily_time="08:00")
        assert served.config(111).daily_time == "08:00"
    finally:
        served.close()


def test_a_bot_given_another_key_than_the_migrated_state_was_used_with_is_refused_at_start(
        tmp_path, postgres_server, monkeypatch, capsys) -> None:
    """QA75: bots started on the migrated state with a fresh key filed every member anew: alice's
    vote on her old answer counted twice and /forget-me left her earlier question behind."""
    from bot.state.feedback import hash_key, key_check

    source_path = tmp_path / "state.db"
    _used_state(source_path)
    key = hash_key(source_path)
    url = postgres_server.create_database("rekeyed")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))
    for name in ("GLOSSARY_HASH_KEY", "DATABASE_URL", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["state", "migrate", "--to", url]) == 0
    capsys.readouterr()

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DISCORD_TOKEN", "not.a-real.token")
    monkeypatch.setenv("GLOSSARY_HASH_KEY", "a-fresh-key-made-for-a-new-database")
    assert main(["run"]) == 78  # before the model, the gateway, any member's click
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "GLOSSARY_HASH_KEY is not the key" in said and "state new-key" in said, said
    assert key not in said and "a-fresh-key" not in said

    # the key lost for good: new-key says what it deletes, and does it only when told to
    monkeypatch.delenv("DISCORD_TOKEN")
    assert main(["state", "new-key"]) == 1
    assert "deletes the 2 questions and 1 votes" in capsys.readouterr().err
    assert main(["state", "new-key", "--yes"]) == 0
    with contextlib.closing(StateStore(url)) as state:  # the study records stay, the orphaned hashes are gone
        assert not state.db.query("SELECT * FROM questions") and not state.db.query("SELECT * FROM votes")
        assert state.study.deck_terms(10**18) == ["LoRA"]
        assert state.feedback.hold_key(key_check("a-fresh-key-made-for-a-new-database"))
        assert not state.feedback.hold_key(key_check(key))
    assert main(["state", "new-key"]) == 0 and "nothing changed" in capsys.readouterr().out


def test_migrating_a_state_that_recorded_no_key_with_two_keys_that_differ_is_refused(tmp_path, postgres_server,
                                                                                     monkeypatch, capsys) -> None:
    """Review 56: a state from before the key check, GLOSSARY_HASH_KEY already set to a fresh key for
    the new database: the migration recorded that key, and the bots started on it filed everyone anew."""
    from bot.state.feedback import hash_key

    source_path = tmp_path / "state.db"
    _used_state(source_path)
    hash_key(source_path)  # the key file the SQLite bot made and used
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("GLOSSARY_HASH_KEY", "a-fresh-key-for-the-new-database")
    url = postgres_server.create_database("two_keys")
    assert main(["state", "migrate", "--to", url]) == 1
    said = capsys.readouterr().err
    assert "differs from" in said and "Unset GLOSSARY_HASH_KEY" in said, said
    with contextlib.closing(StateStore(source_path)) as source:
        assert source.feedback.recorded_key() is None  # the source is not written to
    with contextlib.closing(StateStore(url)) as target:
        assert not target.db.query("SELECT * FROM questions")


def test_new_key_for_a_state_file_that_is_not_there_is_refused_and_makes_nothing(tmp_path, monkeypatch,
                                                                                 capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(tmp_path / "typo.db"))
    for name in ("GLOSSARY_HASH_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["state", "new-key", "--yes"]) == 1
    assert "no state database at" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_migrating_with_another_key_than_the_state_was_used_with_is_refused(tmp_path, postgres_server,
                                                                            monkeypatch, capsys) -> None:
    from bot.state.feedback import checked_key

    source_path = tmp_path / "state.db"
    _used_state(source_path)
    with contextlib.closing(StateStore(source_path)) as state:  # the bot's first start records its key
        checked_key(state.feedback, state.where, source_path, None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(source_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("GLOSSARY_HASH_KEY", "not-the-one-in-state.db.key")
    url = postgres_server.create_database("wrong_key_migrate")
    assert main(["state", "migrate", "--to", url]) == 1
    assert "GLOSSARY_HASH_KEY is not the key" in capsys.readouterr().err
    with contextlib.closing(StateStore(url)) as target:
        assert not target.db.query("SELECT * FROM questions")
