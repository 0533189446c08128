"""Start-up time and resident memory: the whole bot vs the bundled model alone.

Both run as fresh processes. "Ready" for the model is one query embedded; for
the bot it is the first `/ask` answered through the loopback fake Discord of
the test suite (tests/fake_discord), so log-in, command sync, index and model
loading are all inside the figure.
"""

from __future__ import annotations

import asyncio
import compileall
import os
import signal
import sys
import time
from pathlib import Path

from .timing import median, rss_mb

ROOT = Path(__file__).resolve().parents[2]
REPEATS = 9  # each side: a single start varies by ±20% on a 2-core machine (single-run ratios 0.77–1.6 seen)
# Free-form, so answering it needs the model (a plain "what is attention?" is a name lookup).
FREE_FORM_QUESTION = "what's the trick where you recompute activations to save memory?"

MODEL_ALONE = """
import sys
from bot.config import Settings
from bot.glossary.embeddings import FastEmbedEmbedder
s = Settings.load()
e = FastEmbedEmbedder.load(s.model, tokenizer_dir=s.model_dir, cache_dir=s.cache_dir, batch_size=s.batch_size)
e.embed_query("what's the trick where you recompute activations to save memory?")
print("ready", flush=True)
sys.stdin.read()
"""


def _fake_discord():
    if not (ROOT / "tests" / "fake_discord").is_dir():
        return None
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.fake_discord import FakeDiscord

    return FakeDiscord


async def _model_alone(env: dict[str, str], workdir: Path) -> tuple[float, float]:
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", MODEL_ALONE, cwd=workdir, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if line.strip() != b"ready":
            err = (await proc.stderr.read()).decode(errors="replace").strip().splitlines()
            raise StartupError(f"the model process failed: {err[-1] if err else 'no message'}")
        ready = time.monotonic() - started
        return ready, rss_mb(proc.pid)
    finally:
        if proc.returncode is None:
            proc.stdin.close()
            await asyncio.wait_for(proc.wait(), 30)


async def _bot(fake_discord_cls, env: dict[str, str], workdir: Path) -> tuple[float, float, float]:
    async with fake_discord_cls() as fake:
        fake.add_guild("Bench")
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=workdir, env={**env, **fake.env()},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        try:
            online = await _online_or_exited(fake, proc) - started
            answer = await fake.wait_for_response(
                await fake.send_slash_command("ask", {"question": FREE_FORM_QUESTION}), timeout=30
            )
            ready = answer.at - started
            return ready, rss_mb(proc.pid), online
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()


class StartupError(RuntimeError):
    """A process under measurement failed; the message has its last words."""


async def _online_or_exited(fake, proc) -> float:
    """When the bot got READY; a bot that exits first (bad settings, say) fails at once."""
    ready = asyncio.create_task(fake.wait_ready(timeout=120))
    exited = asyncio.create_task(proc.wait())
    done, _pending = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
    if ready in done:
        exited.cancel()
        return ready.result().at
    ready.cancel()
    err = (await proc.stderr.read()).decode(errors="replace").strip().splitlines()
    raise StartupError(f"the bot exited with code {proc.returncode} before connecting: "
                       f"{err[-1] if err else 'no message'}")


async def _measure(fake_discord_cls, settings, glossary_path: Path, index_path: Path, workdir: Path,
                   repeats: int = REPEATS) -> dict:
    # Everything explicit: the processes run in the bench's folder (no .env there), and the
    # index must be the one just built from this glossary, or the bot would rebuild it.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "GLOSSARY_FILE": str(Path(glossary_path).resolve()),
        "GLOSSARY_INDEX": str(Path(index_path).resolve()),
        "GLOSSARY_STATE_DB": str((workdir / "state.db").resolve()),
        "GLOSSARY_MODEL": settings.model,
        "GLOSSARY_MODEL_DIR": str(Path(settings.model_dir).resolve()),
        "GLOSSARY_CACHE_DIR": str(Path(settings.cache_dir).resolve()),
        "GLOSSARY_BATCH_SIZE": str(settings.batch_size),
    }
    model_runs, bot_runs = [], []
    for _ in range(repeats):  # alternate, so load on the machine hits both alike
        model_runs.append(await _model_alone(env, workdir))
        bot_runs.append(await _bot(fake_discord_cls, env, workdir))
    return {
        "model_ready_s": median([r for r, _m in model_runs]),
        "bot_ready_s": median([r for r, _m, _o in bot_runs]),
        "bot_online_s": median([o for _r, _m, o in bot_runs]),
        "model_rss_mb": median([m for _r, m in model_runs]),
        "bot_rss_mb": median([m for _r, m, _o in bot_runs]),
        "run_ratios": sorted(b[0] / m[0] for m, b in zip(model_runs, bot_runs)),
    }


def measure_startup(bench, glossary_path: Path, index_path: Path) -> None:
    from .run import Figure

    fake_discord_cls = _fake_discord()
    if fake_discord_cls is None:
        bench.info["startup"] = "skipped: needs tests/fake_discord from a checkout of the repository"
        return
    # As `make run` and the Dockerfile do: our modules byte-compiled, so that neither process
    # measures Python compiling them (where PYTHONDONTWRITEBYTECODE is set, it would each time).
    compileall.compile_dir(ROOT / "bot", quiet=2)
    repeats = 1 if bench.quick else REPEATS  # --quick: that it works, not a reliable figure
    m = asyncio.run(_measure(fake_discord_cls, bench.settings, glossary_path, index_path, bench.workdir, repeats))
    bench.add(Figure(
        "startup_vs_model_load", m["bot_ready_s"] / m["model_ready_s"], 1.3,
        "process start → first /ask answered (bot, via fake Discord) ÷ process start → model ready",
        {"bot_ready_s": round(m["bot_ready_s"], 2), "model_ready_s": round(m["model_ready_s"], 2),
         "bot_online_s": round(m["bot_online_s"], 2),  # READY from the gateway: online, before its first answer
         # the spread behind the medians: each bot start ÷ the model start just before it
         "runs_a_side": repeats, "run_ratio_range": [round(m["run_ratios"][0], 2), round(m["run_ratios"][-1], 2)]},
    ))
    bench.add(Figure(
        "memory_vs_model", m["bot_rss_mb"] / m["model_rss_mb"], 1.3,
        "resident memory of the running bot ÷ a process holding only the model",
        {"bot_rss_mb": round(m["bot_rss_mb"], 1), "model_rss_mb": round(m["model_rss_mb"], 1)},
    ))
