"""An index interrupted or busy is not a damaged index: nothing is thrown away.

A build killed mid-write leaves a "hot" journal; another process writing holds
a lock. Both used to look like damage to the read-only check, and the bot then
moved a good index aside and re-embedded everything.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from bot.glossary.index import IndexError_, build_index, migrate
from bot.glossary.index_file import CorruptIndexError, build_lock, check_index, leave_nothing_behind
from tests.conftest import FakeEmbedder

ENTRIES = 300
GLOSSARY = "\n".join(
    ["Glossary", "Terms from a test."]
    + [line for i in range(ENTRIES) for line in (f"Term {i:03d}", f"Definition number {i} of the test glossary.")]
)


@pytest.fixture
def index_path(tmp_path):
    glossary = tmp_path / "glossary.txt"
    glossary.write_text(GLOSSARY, encoding="utf-8")
    path = tmp_path / "index.db"
    build_index(path, glossary, FakeEmbedder())
    return path


def count_entries(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM entries").fetchone()[0]


def test_a_build_killed_mid_write_is_rolled_back_not_moved_aside(index_path):
    # A writer that spills changed pages into the file, then dies without committing.
    killer = textwrap.dedent(f"""
        import os, signal, sqlite3
        conn = sqlite3.connect({str(index_path)!r})
        conn.execute("PRAGMA cache_size = 1")
        conn.execute("BEGIN")
        conn.execute("DELETE FROM entries")
        conn.execute("UPDATE embeddings SET vector = zeroblob(length(vector))")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    subprocess.run([sys.executable, "-c", killer], check=False)
    journal = index_path.with_name(index_path.name + "-journal")
    assert journal.is_file() and journal.stat().st_size > 0  # the hot journal is there

    check_index(index_path)  # rolls it back instead of calling the index damaged
    assert count_entries(index_path) == ENTRIES


def test_an_index_another_process_is_writing_is_busy_not_damaged(index_path):
    writer = sqlite3.connect(index_path)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(IndexError_) as caught:
            check_index(index_path)
        assert not isinstance(caught.value, CorruptIndexError)
        assert "busy" in str(caught.value)
    finally:
        writer.rollback()
        writer.close()
    assert index_path.exists() and count_entries(index_path) == ENTRIES


def test_a_failed_migration_leaves_no_half_schema(index_path, monkeypatch):
    from bot.glossary import index as index_module

    def broken_step(db) -> None:
        db["half_made"].create({"x": int})
        raise RuntimeError("step failed half-way")

    with sqlite3.connect(index_path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    monkeypatch.setattr(index_module, "MIGRATIONS", [*index_module.MIGRATIONS, broken_step])
    import sqlite_utils

    db = sqlite_utils.Database(sqlite3.connect(index_path))
    with pytest.raises(RuntimeError):
        migrate(db)
    assert "half_made" not in db.table_names()
    assert db.execute("PRAGMA user_version").fetchone()[0] == version
    db.close()


def test_build_lock_is_exclusive_across_processes(tmp_path):
    path = tmp_path / "index.db"
    probe = textwrap.dedent(f"""
        import fcntl, sys
        with open({str(path) + ".lock"!r}, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                sys.exit(3)
    """)
    with build_lock(path):
        assert subprocess.run([sys.executable, "-c", probe]).returncode == 3
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0


class _Stop(Exception):
    pass


@pytest.mark.parametrize("stop, embedded, kept", [
    (KeyboardInterrupt, True, True),  # Ctrl-C after a chunk: the next build reuses its vectors
    (KeyboardInterrupt, False, False),  # before any: nothing worth keeping
    (_Stop, True, False),  # a failure (a full disk, a bad glossary) leaves the folder as it was
])
def test_a_first_build_stopped_by_the_user_keeps_what_it_embedded(tmp_path, monkeypatch, stop, embedded, kept):
    monkeypatch.setattr("bot.glossary.index.EMBED_CHUNK", 1)
    glossary = tmp_path / "glossary.txt"
    glossary.write_text("Attention\nToken mixing.\nLoRA\nLow-rank adapters.\nsoftmax\nScores to probabilities.\n")
    index_path = tmp_path / "index.db"

    class Stopping(FakeEmbedder):
        def embed_documents(self, texts, progress=None):
            if self.embedded or not embedded:
                raise stop
            return super().embed_documents(texts, progress)

    with pytest.raises(stop), leave_nothing_behind(index_path):
        build_index(index_path, glossary, Stopping())
    assert index_path.exists() == kept
