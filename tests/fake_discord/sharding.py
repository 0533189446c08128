"""Sharding in the fake: which guild belongs to which shard, IDENTIFY rate limits, waiting for shards.

How Discord shards (and the fake with it):

* ``GET /gateway/bot`` recommends ``shards`` (``FakeDiscord(shard_count=...)``) and gives
  ``session_start_limit.max_concurrency`` (``FakeDiscord(max_concurrency=...)``);
* IDENTIFY carries ``shard: [shard_id, shard_count]``; the session then only hears about
  guilds with ``(guild_id >> 22) % shard_count == shard_id`` (READY, GUILD_CREATE, messages,
  interactions, ...), and DMs only reach shard 0. An impossible shard is closed with 4010;
* at most one IDENTIFY per ``identify_window`` (5 s) per bucket ``shard_id % max_concurrency``.
  The fake records every IDENTIFY (``gateway_events`` of kind ``"identify"``, detail
  ``shard``/``bucket``) and :meth:`ShardingMixin.identify_violations` lists the ones that came
  too early. Only with ``enforce_identify_rate=True`` is such an IDENTIFY closed with 4008.

Guild ids: the shard of a guild is decided by the timestamp part of its id, so ids minted in
the same millisecond share a shard. ``add_guild`` therefore gives every guild a fresh
timestamp (consecutive guilds land on consecutive shards unless the clock moves on between
them) and ``add_guild(..., shard=k, shard_count=n)`` picks an id on shard ``k`` of ``n``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .models import DISCORD_EPOCH_MS, FakeGuild, GatewayEvent

#: Discord's close codes for the two sharding failures
CLOSE_RATE_LIMITED = 4008
CLOSE_INVALID_SHARD = 4010


@dataclass(frozen=True)
class IdentifyViolation:
    """Two accepted IDENTIFYs of one rate-limit bucket closer together than the window."""

    bucket: int
    earlier: GatewayEvent
    later: GatewayEvent

    @property
    def gap(self) -> float:
        """Seconds between the two IDENTIFYs (less than the window)."""
        return self.later.at - self.earlier.at

    @property
    def shards(self) -> tuple[int, int]:
        """The shard ids of the two IDENTIFYs (earlier, later)."""
        return self.earlier.detail["shard"][0], self.later.detail["shard"][0]


def parse_shard(raw: Any) -> tuple[int, int] | None:
    """IDENTIFY's ``shard`` field as ``(shard_id, shard_count)``; ``None`` if it is invalid.

    A missing field means ``[0, 1]``, like on Discord.
    """
    if raw is None:
        return (0, 1)
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        return None
    try:
        shard_id, shard_count = int(raw[0]), int(raw[1])
    except (TypeError, ValueError):
        return None
    if shard_count < 1 or not 0 <= shard_id < shard_count:
        return None
    return (shard_id, shard_count)


class ShardingMixin:
    """FakeDiscord's sharding helpers (guild placement, identify accounting, waiting)."""

    # ------------------------------------------------------------------ guild placement

    def _guild_snowflake(self, shard: int | None = None, shard_count: int | None = None) -> int:
        """A guild id with a timestamp part of its own (so guilds spread over shards).

        With ``shard``/``shard_count``: the first such timestamp on that shard. Ids stay
        strictly increasing; the fake's clock may run a few milliseconds ahead of the real one.
        """
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        stamp = max(now_ms, (self._last_snowflake >> 22) + 1)
        if shard is not None and shard_count is not None:
            if shard_count < 1 or not 0 <= shard < shard_count:
                raise ValueError(f"shard={shard} is not a shard of shard_count={shard_count}")
            stamp += (shard - stamp) % shard_count
        elif shard is not None or shard_count is not None:
            raise ValueError("pass both shard= and shard_count=, or neither")
        self._last_snowflake = stamp << 22
        return self._last_snowflake

    def guild_shard(self, guild: FakeGuild | int, shard_count: int | None = None) -> int:
        """The shard (of ``shard_count``, default the recommended count) that owns ``guild``."""
        guild_id = guild.id if isinstance(guild, FakeGuild) else int(guild)
        return (guild_id >> 22) % (shard_count or self.shard_count)

    def guilds_of_shard(self, shard_id: int, shard_count: int | None = None) -> list[FakeGuild]:
        """Every guild that shard ``shard_id`` of ``shard_count`` is told about, in creation order."""
        return [g for g in self.guilds.values() if self.guild_shard(g, shard_count) == shard_id]

    # ------------------------------------------------------------------ identify accounting

    def identifies(self, *, accepted_only: bool = False) -> list[GatewayEvent]:
        """Every IDENTIFY received (oldest first). ``detail``: ``shard`` (``[id, count]``, or
        the raw value if invalid), ``bucket``, ``intents``, and ``rejected`` (a close code)
        for those refused (bad token, intents, shard, rate limit)."""
        events = [e for e in self.gateway_events if e.kind == "identify"]
        return [e for e in events if "rejected" not in e.detail] if accepted_only else events

    def _identify_too_early(self, event: GatewayEvent) -> bool:
        """Would ``event`` (just recorded, not yet accepted) break the identify rate limit?"""
        bucket = event.detail["bucket"]
        return any(
            e is not event and e.detail.get("bucket") == bucket and event.at - e.at < self.identify_window
            for e in self.identifies(accepted_only=True)
        )

    def identify_violations(
        self, window: float | None = None, *, max_concurrency: int | None = None
    ) -> list[IdentifyViolation]:
        """Pairs of accepted IDENTIFYs in the same bucket less than ``window`` seconds apart.

        Discord allows one IDENTIFY per 5 s in each bucket ``shard_id % max_concurrency``
        (so ``max_concurrency`` shards may start together). ``window`` defaults to the
        fake's ``identify_window`` and ``max_concurrency`` to the fake's. Empty = respected.
        Each too-early IDENTIFY is reported once, against the previous one of its bucket.
        """
        window = self.identify_window if window is None else window
        concurrency = max_concurrency or self.max_concurrency
        last: dict[int, GatewayEvent] = {}
        found: list[IdentifyViolation] = []
        for event in self.identifies(accepted_only=True):
            bucket = event.detail["shard"][0] % concurrency
            previous = last.get(bucket)
            if previous is not None and event.at - previous.at < window:
                found.append(IdentifyViolation(bucket, previous, event))
            last[bucket] = event
        return found

    def _session_start_limit(self) -> dict[str, int]:
        total = 1000
        remaining = max(0, total - len(self.identifies(accepted_only=True)))
        return {"total": total, "remaining": remaining, "reset_after": 0, "max_concurrency": self.max_concurrency}

    # ------------------------------------------------------------------ waiting

    def live_shards(self) -> list[tuple[int, int]]:
        """``(shard_id, shard_count)`` of every session whose socket is up, sorted."""
        return sorted(
            {c.session.shard for c in self._connections if c.session is not None and c.live and not c.ws.closed}
        )

    async def wait_shards_ready(
        self,
        shard_ids: Iterable[int],
        shard_count: int | None = None,
        *,
        after: Any = None,
        timeout: float = 10.0,
    ) -> list[GatewayEvent]:
        """Wait until READY (and its GUILD_CREATEs) went to each of ``shard_ids`` of
        ``shard_count`` (default the recommended count); returns the ``ready`` events by shard.
        discord.py still waits ``guild_ready_timeout`` per shard before its own ``on_ready``."""
        count = shard_count or self.shard_count
        wanted = list(shard_ids)
        since = self._since(after)

        def find() -> list[GatewayEvent] | None:
            latest: dict[int, GatewayEvent] = {}
            for e in self.gateway_events:
                if e.kind == "ready" and e.at >= since and e.detail.get("shard", [0, 1])[1] == count:
                    latest[e.detail["shard"][0]] = e
            return [latest[s] for s in wanted] if all(s in latest for s in wanted) else None

        return await self.wait_for(find, timeout=timeout, what=f"READY on shards {wanted} of {count}")
