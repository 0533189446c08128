"""The bot's own state (apart from the rebuildable index): server settings, the term of the
day, and each user's study records, in one database with numbered migrations."""

from .db import StateError, StateUnavailable
from .store import FAILED, POSTED, RESERVED, SENDING, GuildConfig, StateStore, interrupted_error

__all__ = ["FAILED", "POSTED", "RESERVED", "SENDING", "GuildConfig", "StateError", "StateStore",
           "StateUnavailable", "interrupted_error"]
