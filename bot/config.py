"""All settings in one place: environment variables, optionally from a `.env` file.

Real environment variables win over `.env`. Paths default to the repository's
`data/` folder, which is where the glossary, the bundled tokenizer files and
the (git-ignored) index live.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DAYS_MAX = 3650  # the longest span a report looks back over, or the question log keeps


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Minimal KEY=VALUE reader (comments, blank lines, optional quotes, `export `), as Docker
    Compose's `env_file` reads the same file."""
    values: dict[str, str] = {}
    try:
        # utf-8-sig: Windows editors save "UTF-8 with BOM", which would hide the first key.
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return values
    except UnicodeDecodeError as exc:
        # Ignoring it would silently drop every setting, the token included.
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start + 1}): save it as UTF-8") from None
    except OSError as exc:  # e.g. a .env only root can read: say which file, not a bare errno
        raise ConfigError(f"cannot read {path} ({exc.strerror}): fix its permissions or remove it") from None
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = re.sub(r"^export\s+", "", key.strip()).strip()
        values[key] = _dotenv_value(value.strip())
    return values


#: every variable Settings.load reads
SETTING_NAMES = ("DISCORD_TOKEN", "DISCORD_GUILD_ID", "DISCORD_API_BASE", "DISCORD_GATEWAY_URL", "DATABASE_URL",
                 "GLOSSARY_DATA_DIR", "GLOSSARY_FILE", "GLOSSARY_INDEX", "GLOSSARY_STATE_DB", "GLOSSARY_MODEL",
                 "GLOSSARY_MODEL_DIR", "GLOSSARY_CACHE_DIR", "GLOSSARY_BATCH_SIZE", "GLOSSARY_MESSAGE_CONTENT",
                 "GLOSSARY_HASH_KEY", "GLOSSARY_METRICS_HOST", "GLOSSARY_METRICS_PORT", "GLOSSARY_LOG_RETENTION_DAYS",
                 "SHARD_COUNT", "SHARD_IDS")
_LOOKS_OURS = re.compile(r"(?:GLOSSARY|DISCORD|SHARD|DATABASE)_")


def dotenv_warnings(path: Path) -> list[str]:
    """Lines of a `.env` that set nothing though they were surely meant to: a misspelt name of ours
    (DISCORD_TOKN: the bot would say no token is set, and the user knows they put one there), or a
    line without "=" (DISCORD_TOKEN: …, as YAML writes it). Never echoes a value: it may be the token."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):  # Settings.load says what is wrong with the file
        return []
    found = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name = re.sub(r"^export\s+", "", re.split(r"[=:\s]", line, maxsplit=1)[0] if "=" not in line
                      else line.split("=", 1)[0]).strip()
        if "=" not in line:
            found.append(f"{path}, line {number} ({name[:40]} …) has no '=', so it sets nothing: write NAME=value")
        elif name not in SETTING_NAMES:
            close = difflib.get_close_matches(name.upper(), SETTING_NAMES, n=1, cutoff=0.75)
            if close or _LOOKS_OURS.match(name.upper()):
                found.append(f"{path}, line {number}: {name[:40]} is no setting of the bot's, so it is ignored"
                             + (f": did you mean {close[0]}?" if close else ""))
    return found


def _dotenv_value(value: str) -> str:
    """A value without its quotes, or without a trailing ` # comment` when unquoted."""
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        if end > 0 and (end == len(value) - 1 or re.match(r"\s+#", value[end + 1:])):
            return value[1:end]
        return value
    return re.sub(r"\s+#.*$", "", value)


def _shown(value: str) -> str:
    """A value quoted for an error message: never more than a line's worth."""
    return repr(value[:40] + "…") if len(value) > 40 else repr(value)


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {_shown(value)}")


def _int(name: str, value: str, low: int, high: int) -> int:
    # Plain ASCII digits only: int() would also take "1_000", "٤" or " +4 ".
    if not re.fullmatch(r"[0-9]{1,30}", value):
        raise ConfigError(f"{name} must be a whole number, not {_shown(value)}")
    number = int(value)
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {number}")
    return number


def _path(name: str, value: str, *, folder: bool) -> Path:
    """A path setting, refused early when it cannot work (the wrong kind of thing is already there)."""
    path = Path(value)
    try:
        os.fsencode(value)  # a NUL or a lone surrogate: no file can have that name
        if "\x00" in value:
            raise ValueError
        exists_as_folder = path.is_dir()
        exists_as_file = path.exists() and not exists_as_folder
    except (ValueError, OSError):
        raise ConfigError(f"{name} is not a usable path: {_shown(value)}") from None
    if folder and exists_as_file:
        raise ConfigError(f"{name} must be a folder, but {path} is a file")
    if not folder and exists_as_folder:
        raise ConfigError(f"{name} must be a file, but {path} is a folder")
    return path


def _same_file(a: Path, b: Path) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _url(name: str, value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is not None and not re.fullmatch(rf"(?:{'|'.join(schemes)})://[^\s/]+(?:/\S*)?", value):
        raise ConfigError(f"{name} must be a {' or '.join(schemes)}:// URL, not {_shown(value)}")
    return value


def _shard_ids(value: str | None) -> tuple[int, ...] | None:
    """SHARD_IDS: "0-3", "4,5,6" or "0-1,8"."""
    if not value:
        return None
    ids: list[int] = []
    for part in value.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d{1,6})(?:-(\d{1,6}))?", part)
        if match is None or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise ConfigError(f"SHARD_IDS must look like 0-3 or 0,1,2 (shard numbers from 0), not {_shown(value)}")
        ids += range(int(match.group(1)), int(match.group(2) or match.group(1)) + 1)
    return tuple(sorted(set(ids)))


def _database_url(value: str | None) -> str | None:
    """DATABASE_URL: a PostgreSQL URL, never echoed (it may carry a password)."""
    if not value:
        return None
    if not re.fullmatch(r"postgres(?:ql)?://\S+", value):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL (e.g. postgresql://bot:secret@db:5432/glossary); "
                          "leave it unset to keep the state in the SQLite file GLOSSARY_STATE_DB")
    return value


# A bot token is three base64url parts joined by dots (the bot's id, a time, a signature). Nothing
# else a developer portal shows has that shape: the Application ID is digits, the Public Key hex,
# the Client Secret one part; and the README's placeholder is none of it.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+={0,2}(?:\.[A-Za-z0-9_-]+={0,2}){2}")


def _token(value: str | None) -> str | None:
    # Never echo the token. A real one is printable ASCII without spaces; anything
    # else is a copy-paste accident that would otherwise fail deep inside aiohttp.
    if value is not None and not re.fullmatch(r"[\x21-\x7e]+", value):
        raise ConfigError(
            "DISCORD_TOKEN contains spaces or characters a bot token never has: copy it again from the "
            "developer portal (Bot → Reset Token) into .env"
        )
    # Only Discord would refuse it otherwise, and offline the bot would say "cannot reach Discord"
    # for ever before anyone learnt the token was never one.
    if value is not None and not _TOKEN_SHAPE.fullmatch(value):
        copied = ("the Application ID (only digits), not the bot's token" if value.isdigit() else
                  "not a bot token (one is three parts joined by dots; the Application ID, Public Key and "
                  "Client Secret are not it)")
        raise ConfigError(f"DISCORD_TOKEN is {copied}: on the developer portal's Bot page, Reset Token and copy "
                          "that token into .env")
    return value


def _model(value: str) -> str:
    if not re.fullmatch(r"[\x21-\x7e]{1,200}", value):
        raise ConfigError(
            f"GLOSSARY_MODEL must be `bundled`, `bundled-base` or a fastembed model name such as "
            f"BAAI/bge-small-en-v1.5, "
            f"not {_shown(value)}"
        )
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    glossary_path: Path = DEFAULT_DATA_DIR / "glossary.txt"
    index_path: Path = DEFAULT_DATA_DIR / "index.db"
    state_path: Path = DEFAULT_DATA_DIR / "state.db"
    model: str = "bundled"
    model_dir: Path = DEFAULT_DATA_DIR / "model"
    cache_dir: Path = DEFAULT_DATA_DIR / "cache"
    batch_size: int = 4
    discord_token: str | None = field(default=None, repr=False)
    guild_id: int | None = None
    message_content: bool = False
    log_retention_days: int = 90  # questions and votes logged for the gaps report
    hash_key: str | None = field(default=None, repr=False)  # keys the user hashes (default: state.db.key)
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL instead of the SQLite file
    metrics_port: int | None = None  # /metrics and /healthz (opt-in)
    metrics_host: str = "127.0.0.1"  # 0.0.0.0 to let another host (or container) scrape them
    shard_count: int | None = None  # SHARD_COUNT: total shards across all processes (default: Discord's advice)
    shard_ids: tuple[int, ...] | None = None  # SHARD_IDS: this process's slice, e.g. 0-3 (default: all)
    api_base: str | None = None
    gateway_url: str | None = None

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        env = dict(read_dotenv(dotenv if dotenv is not None else Path.cwd() / ".env"))
        env.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value is not None and value.strip() else None

        def path(name: str, default: Path, *, folder: bool = False) -> Path:
            value = get(name)
            return _path(name, value, folder=folder) if value else default

        data_dir = path("GLOSSARY_DATA_DIR", DEFAULT_DATA_DIR, folder=True)
        guild = get("DISCORD_GUILD_ID")
        settings = cls(
            data_dir=data_dir,
            glossary_path=path("GLOSSARY_FILE", data_dir / "glossary.txt"),
            index_path=path("GLOSSARY_INDEX", data_dir / "index.db"),
            state_path=path("GLOSSARY_STATE_DB", data_dir / "state.db"),
            model=_model(get("GLOSSARY_MODEL") or "bundled"),
            model_dir=path("GLOSSARY_MODEL_DIR", DEFAULT_DATA_DIR / "model", folder=True),
            cache_dir=path("GLOSSARY_CACHE_DIR", data_dir / "cache", folder=True),
            batch_size=_int("GLOSSARY_BATCH_SIZE", get("GLOSSARY_BATCH_SIZE") or "4", 1, 8),
            discord_token=_token(get("DISCORD_TOKEN")),
            guild_id=_int("DISCORD_GUILD_ID", guild, 1, 2**64 - 1) if guild else None,
            message_content=_bool("GLOSSARY_MESSAGE_CONTENT", get("GLOSSARY_MESSAGE_CONTENT") or "false"),
            hash_key=get("GLOSSARY_HASH_KEY") or None,
            database_url=_database_url(get("DATABASE_URL")),
            metrics_host=get("GLOSSARY_METRICS_HOST") or "127.0.0.1",
            shard_count=_int("SHARD_COUNT", get("SHARD_COUNT"), 1, 100_000) if get("SHARD_COUNT") else None,
            shard_ids=_shard_ids(get("SHARD_IDS")),
            metrics_port=_int("GLOSSARY_METRICS_PORT", get("GLOSSARY_METRICS_PORT"), 0, 65535)
            if get("GLOSSARY_METRICS_PORT") else None,
            log_retention_days=_int("GLOSSARY_LOG_RETENTION_DAYS", get("GLOSSARY_LOG_RETENTION_DAYS") or "90", 1,
                                    DAYS_MAX),
            api_base=_url("DISCORD_API_BASE", get("DISCORD_API_BASE"), ("http", "https")),
            gateway_url=_url("DISCORD_GATEWAY_URL", get("DISCORD_GATEWAY_URL"), ("ws", "wss")),
        )
        settings.check()
        return settings

    @property
    def state_target(self):
        """Where the state lives: the PostgreSQL URL when DATABASE_URL is set, else the SQLite file."""
        return self.database_url or self.state_path

    def check(self) -> None:
        """Settings that are fine one by one but not together."""
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ConfigError("SHARD_IDS needs SHARD_COUNT (the total number of shards across all processes)")
            if max(self.shard_ids) >= self.shard_count:
                raise ConfigError(f"SHARD_IDS goes up to {max(self.shard_ids)} but SHARD_COUNT is {self.shard_count}: "
                                  f"shards are numbered 0 to {self.shard_count - 1}")
        if self.database_url and not self.hash_key:
            # After `state migrate` a fresh key would orphan every logged question and vote: say that case first.
            raise ConfigError("with DATABASE_URL, set GLOSSARY_HASH_KEY too, the same for every bot process (it keys "
                              "the hashes users are stored as, and must not be in the database): after "
                              f"`glossary-bot state migrate`, the contents of {self.state_path}.key beside the old "
                              "SQLite state, so that logged questions and votes keep their owners; for a new "
                              "database, a long random string, e.g. GLOSSARY_HASH_KEY=$(python3 -c 'import secrets; "
                              "print(secrets.token_hex(32))')")
        # The bot moves a damaged index aside and rebuilds it: it must never be the state or the glossary.
        if _same_file(self.index_path, self.state_path):
            raise ConfigError(f"GLOSSARY_INDEX and GLOSSARY_STATE_DB are the same file ({self.index_path}): "
                              "use two different files")
        if _same_file(self.index_path, self.glossary_path):
            raise ConfigError(f"GLOSSARY_INDEX and GLOSSARY_FILE are the same file ({self.index_path}): "
                              "the index is built from the glossary, use another path")

    def with_index(self, value: str) -> Settings:
        """These settings with the index at `value` (the CLI's --index), checked like GLOSSARY_INDEX."""
        updated = Settings(**{**self.__dict__, "index_path": _path("--index", value, folder=False)})
        updated.check()
        return updated
