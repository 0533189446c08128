"""Injected REST failures: rate limits, server errors and permission errors, on demand.

Real Discord answers some requests with 429 (rate limited), 5xx (its own trouble) or
403 (the bot lost a permission). ``fake.fail_next(...)`` makes the next matching
requests fail that way, with the body and headers discord.py actually reads:

* 429: JSON ``{"message", "retry_after", "global", "code"}`` plus ``Retry-After``,
  ``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket/-Scope`` (and
  ``X-RateLimit-Global`` for a global limit) and ``Via``. discord.py 2.7 treats a 429
  *without* ``Via`` as a Cloudflare ban and raises instead of retrying, so it is set;
  it then sleeps ``retry_after`` and retries (a global limit pauses every request);
* 500/502/504/524: discord.py retries after 1 s, 3 s, ... (five tries in all);
  other 5xx raise ``DiscordServerError``;
* 4xx: ``{"message", "code"}``; 403 raises ``discord.Forbidden`` with ``.code`` (50001
  Missing Access, 50013 Missing Permissions), 404 ``discord.NotFound``.

``fake.drop_next(...)`` closes the connection instead of answering, as a reset or a proxy
that gave up would: aiohttp raises ``ServerDisconnectedError``, which discord.py passes on
as it is (not as an ``HTTPException``); it is recorded with status 0.

A failed request never reaches the route handler, so nothing is stored: a retried
send creates its message once. Every request, failed or not, is still in
``fake.requests`` with the status it got.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

#: Discord's wording for the error codes tests inject most
ERROR_MESSAGES = {
    10003: "Unknown Channel",
    10008: "Unknown Message",
    50001: "Missing Access",
    50013: "Missing Permissions",
}
_METHODS = {"*", "GET", "POST", "PUT", "PATCH", "DELETE"}
_STATUS_TEXT = {
    403: "403: Forbidden",
    404: "404: Not Found",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}


@dataclass
class Fault:
    """One ``fail_next`` rule: the next ``remaining`` matching requests get ``status``."""

    method: str
    path: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float | None = None
    code: int = 0
    global_: bool = False
    message: str = ""
    hits: int = 0  # how many requests this rule failed so far
    drop: bool = False  # close the connection without an answer (drop_next)
    bucket: str = field(default_factory=lambda: secrets.token_hex(16))

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.method in ("*", method) and self.path.fullmatch(path) is not None

    def response(self) -> web.Response:
        body: dict[str, object] = {"message": self.message, "code": self.code}
        headers = {"Content-Type": "application/json"}
        if self.status == 429:
            retry_after = float(self.retry_after or 0.0)
            body.update(retry_after=retry_after, **{"global": self.global_})
            headers.update({
                "Via": "1.1 google",
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Scope": "global" if self.global_ else "user",
            })
            if self.global_:
                headers["X-RateLimit-Global"] = "true"
            else:
                headers.update({
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": self.bucket,
                })
        return web.Response(body=json.dumps(body).encode(), status=self.status, headers=headers)


class FaultsMixin:
    """FakeDiscord's ``fail_next``; the REST handler asks ``_take_fault`` before routing."""

    faults: list[Fault]

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        code: int | None = None,
        global_: bool = False,
        message: str | None = None,
    ) -> Fault:
        """Answer the next ``times`` requests ``method path`` with an error ``status``.

        :param method: ``"POST"`` etc., or ``"*"`` for any method.
        :param path_regex: full match against the path after ``/api/v10``, e.g.
            ``rf"/channels/{channel.id}/messages"`` or ``r"/interactions/\\d+/[^/]+/callback"``.
        :param status: 429, 5xx, or a 4xx such as 403/404.
        :param retry_after: seconds, for 429 (required there).
        :param code: Discord's JSON error code (50013, 50001, ...); 0 if not given.
        :param global_: a 429 for the global rate limit (pauses all of discord.py's requests).
        :param message: the error text; Discord's usual wording by default.
        Returns the rule; its ``hits`` counts the requests it failed.
        """
        method = method.upper()
        if method not in _METHODS:
            raise ValueError(f"method must be one of {sorted(_METHODS)}, got {method!r}")
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error (400-599), got {status}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if status == 429 and (retry_after is None or retry_after < 0):
            raise ValueError("a 429 needs retry_after (seconds, >= 0): discord.py sleeps that long, then retries")
        if status != 429 and (retry_after is not None or global_):
            raise ValueError("retry_after and global_ only apply to status 429")
        try:
            pattern = re.compile(path_regex)
        except re.error as exc:
            raise ValueError(f"path_regex {path_regex!r} is not a regular expression: {exc}") from None
        if message is None:
            message = _default_message(status, code)
        fault = Fault(method, pattern, status, times, retry_after, code or 0, global_, message)
        self.faults.append(fault)
        return fault

    def drop_next(self, method: str, path_regex: str, *, times: int = 1) -> Fault:
        """Close the connection of the next ``times`` requests ``method path`` without an answer
        (arguments as for ``fail_next``). Returns the rule; its ``hits`` counts the requests dropped."""
        fault = self.fail_next(method, path_regex, 500, times=times)
        fault.drop = True
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """The first rule matching this request, used up by one; None to serve it normally."""
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                fault.hits += 1
                return fault
        return None


def _default_message(status: int, code: int | None) -> str:
    if status == 429:
        return "You are being rate limited."
    if code in ERROR_MESSAGES:
        return ERROR_MESSAGES[code]
    return _STATUS_TEXT.get(status, f"{status}: Error")
