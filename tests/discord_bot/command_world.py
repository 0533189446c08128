"""A bot on a background loop against the fake Discord, shared by a module's tests (as in
test_bad_input), with helpers that send a command, an autocomplete or a message and return
everything the bot answered (`Answer`: every body, and what Discord would have refused)."""
from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .helpers import (LoopThread, add_study_channel, all_settled, error_logs, make_bot,
                                       make_settings, record_handled)
from tests.fake_discord import FakeDiscord, point_discord_py_at

LIVE_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d{15,21}>")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Answer:
    bodies: list[dict]
    problems: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        out = []
        for b in self.bodies:
            out.append(b.get("content") or "")
            for e in b.get("embeds") or []:
                out += [e.get("title") or "", e.get("description") or "", (e.get("footer") or {}).get("text") or ""]
                for f in e.get("fields") or []:
                    out += [f.get("name") or "", f.get("value") or ""]
            for c in b.get("choices") or []:
                out.append(c["name"])
        return out

    @property
    def text(self) -> str:
        return "\n".join(t for t in self.texts() if t)


class World:
    def __init__(self, real_index_path: Path, embedder, state_path: Path, **overrides: Any) -> None:
        self.settings = make_settings(real_index_path, state_path, message_content=True, **overrides)
        self.state_path = state_path
        self.loop = LoopThread()
        self.fake = FakeDiscord()
        self.loop.run(self.fake.start())
        fake = self.fake
        self.guild = fake.add_guild("Study Group", channels=["general", "study"])
        self.other_guild = fake.add_guild("Other", channels=["elsewhere"])
        self.user = fake.add_user("mallory")
        fake.add_member(self.guild, self.user)
        self.study = self.guild.channel("study")
        self.general = self.guild.channel("general")
        add_study_channel(state_path, self.guild.id, self.study.id)
        self.restore = point_discord_py_at(fake)
        self.errors = error_logs().__enter__()
        self.embedder = embedder
        self.bot, self.task = self.loop.run(self._start())

    async def _start(self):
        bot = make_bot(self.settings, self.embedder)
        task = asyncio.create_task(bot.start("fake-token"))
        await self.fake.wait_ready(timeout=30)
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        await self.fake.wait_for_command_sync()
        bot.get_cog("Study").clock = itertools.count(10**10, 3600).__next__
        bot.get_cog("Lookup").clock = itertools.count(10**10, 3600).__next__
        self.handled = record_handled(bot.get_cog("Study"))
        return bot, task

    def close(self) -> None:
        async def stop():
            await self.bot.close()
            await asyncio.wait_for(self.task, 10)
            await self.fake.close()
        try:
            self.loop.run(stop())
        finally:
            self.errors.__exit__(None, None, None)
            self.restore()
            self.loop.close()

    # -- sending ---------------------------------------------------------------------------------

    def _collect(self, marks) -> Answer:
        fake = self.fake
        bodies = [c.data or {} for c in fake.interaction_responses[marks[0]:]]
        bodies += [f.payload or {} for f in fake.followups[marks[1]:]]
        reqs = fake.requests[marks[2]:]
        bodies += [r.body for r in reqs if r.method in ("POST", "PATCH") and isinstance(r.body, dict)
                   and "/messages" in r.path]
        problems = [f"callback refused: {c}" for c in fake.interaction_responses[marks[0]:] if not c.ok]
        problems += [f"followup {f.status}" for f in fake.followups[marks[1]:] if f.status >= 400]
        problems += [f"{r.method} {r.path} -> {r.status} {r.body}" for r in reqs if r.status >= 400]
        for b in bodies:
            am = b.get("allowed_mentions")
            if (b.get("content") or b.get("embeds")) and (am is None or am.get("parse") != []):
                problems.append(f"allowed_mentions not none: {am}")
        return Answer(bodies, problems)

    def marks(self):
        return (len(self.fake.interaction_responses), len(self.fake.followups), len(self.fake.requests))

    def command(self, name: str, options: dict | None = None, *, user=None, guild=None, channel=None,
                timeout: float = 30) -> Answer:
        fake = self.fake
        user = user or fake.owner
        guild = guild or self.guild
        marks = self.marks()

        async def go():
            inter = await fake.send_slash_command(name, options or {}, user=user, guild=guild, channel=channel)
            await fake.wait_for(lambda: all_settled(fake, [inter]), timeout=timeout, what=f"/{name} answered")
            await asyncio.sleep(0.05)
        self.loop.run(go(), timeout=timeout + 10)
        return self._collect(marks)

    def autocomplete(self, name: str, options: dict, focused: str, *, user=None, guild=None) -> Answer:
        fake = self.fake
        marks = self.marks()

        async def go():
            inter = await fake.send_autocomplete(name, options, focused=focused, user=user or fake.owner,
                                                 guild=guild or self.guild)
            await fake.wait_for(lambda: all_settled(fake, [inter]), timeout=20, what="autocomplete")
        self.loop.run(go(), timeout=30)
        return self._collect(marks)

    def message(self, text: str, *, channel=None, author=None, mention: bool = False) -> Answer:
        fake = self.fake
        marks = self.marks()
        channel = channel or self.study

        async def go():
            body = f"{fake.bot_user.mention} {text}" if mention else text
            msg = await fake.send_message(channel, body, author=author or self.user)
            await fake.wait_for(lambda: msg.id in self.handled, timeout=30, what="message handled")
            await asyncio.sleep(0.05)
        self.loop.run(go(), timeout=40)
        return self._collect(marks)

    def error_text(self) -> str:
        return "\n".join(self.errors.messages())
