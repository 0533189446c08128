"""All settings in one place: environment variables, optionally from a `.env` file.

Real environment variables win over `.env`. Paths default to the repository's
`data/` folder, which is where the glossary, the bundled tokenizer files and
the (git-ignored) index live.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Minimal KEY=VALUE reader (comments, blank lines, optional quotes, `export `)."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {number}")
    return number


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
    api_base: str | None = None
    gateway_url: str | None = None

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        env = dict(read_dotenv(dotenv if dotenv is not None else Path.cwd() / ".env"))
        env.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value is not None and value.strip() else None

        data_dir = Path(get("GLOSSARY_DATA_DIR") or DEFAULT_DATA_DIR)
        guild = get("DISCORD_GUILD_ID")
        return cls(
            data_dir=data_dir,
            glossary_path=Path(get("GLOSSARY_FILE") or data_dir / "glossary.txt"),
            index_path=Path(get("GLOSSARY_INDEX") or data_dir / "index.db"),
            state_path=Path(get("GLOSSARY_STATE_DB") or data_dir / "state.db"),
            model=get("GLOSSARY_MODEL") or "bundled",
            model_dir=Path(get("GLOSSARY_MODEL_DIR") or DEFAULT_DATA_DIR / "model"),
            cache_dir=Path(get("GLOSSARY_CACHE_DIR") or data_dir / "cache"),
            batch_size=_int("GLOSSARY_BATCH_SIZE", get("GLOSSARY_BATCH_SIZE") or "4", 1, 8),
            discord_token=get("DISCORD_TOKEN"),
            guild_id=_int("DISCORD_GUILD_ID", guild, 1, 2**64 - 1) if guild else None,
            message_content=_bool("GLOSSARY_MESSAGE_CONTENT", get("GLOSSARY_MESSAGE_CONTENT") or "false"),
            api_base=get("DISCORD_API_BASE"),
            gateway_url=get("DISCORD_GATEWAY_URL"),
        )
