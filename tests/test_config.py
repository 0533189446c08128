"""Bad setting values (issue 4): every one ends as a ConfigError whose one-line message names
the variable, never as another exception or a setting the bot cannot use; the same for the
time and zone strings a server admin types (`parse_time`, `parse_zone`)."""

from __future__ import annotations

from datetime import time, tzinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.config import ConfigError, Settings, read_dotenv
from bot.glossary.daily import ScheduleError, parse_time, parse_zone

NO_DOTENV = Path("/nonexistent/.env")
FAST = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Every character Python allows in a str, lone surrogates included.
ANY_CHAR = st.characters(exclude_categories=())
NASTY = [
    "", " ", "\t\n", "\x00", "a\x00b", "\ud800", "\udcff", "0", "-1", "+4", "4.0", "1e3", "1_000", "٤", "four",
    "10000", "99999999999999999999999999999999", "true", "yes", "maybe", "/", ".", "..", "/dev/null", "~",
    "'; DROP TABLE entries; --", "@everyone", "<@&123>", "```", "NEAR(", "x" * 10_000, "é" * 300, "\u202e",
]
VALUES = st.one_of(st.sampled_from(NASTY), st.text(ANY_CHAR, max_size=40))
KEYS = [
    "GLOSSARY_DATA_DIR", "GLOSSARY_FILE", "GLOSSARY_INDEX", "GLOSSARY_STATE_DB", "GLOSSARY_MODEL",
    "GLOSSARY_MODEL_DIR", "GLOSSARY_CACHE_DIR", "GLOSSARY_BATCH_SIZE", "DISCORD_TOKEN", "DISCORD_GUILD_ID",
    "GLOSSARY_MESSAGE_CONTENT", "DISCORD_API_BASE", "DISCORD_GATEWAY_URL",
]


def load(**env: str) -> Settings:
    return Settings.load(environ=env, dotenv=NO_DOTENV)


def config_error(**env: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(**env)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300, message
    return message


# -- examples ----------------------------------------------------------------------------------


def test_defaults_load():
    s = load()
    assert s.batch_size == 4 and s.guild_id is None and s.model == "bundled" and not s.message_content


@pytest.mark.parametrize("value", ["lots", "4.0", "1_000", "٤", "+4", "0x4", "\x00"])
def test_batch_size_must_be_a_plain_number(value):
    assert "GLOSSARY_BATCH_SIZE must be a whole number" in config_error(GLOSSARY_BATCH_SIZE=value)


@pytest.mark.parametrize("value", ["0", "9", "10000", "99999999999999999999"])
def test_batch_size_must_be_in_range(value):
    assert "GLOSSARY_BATCH_SIZE must be between 1 and 8" in config_error(GLOSSARY_BATCH_SIZE=value)


def test_batch_size_edges_and_spaces():
    assert load(GLOSSARY_BATCH_SIZE=" 1 ").batch_size == 1
    assert load(GLOSSARY_BATCH_SIZE="8").batch_size == 8
    assert load(GLOSSARY_BATCH_SIZE="   ").batch_size == 4  # blank means unset


@pytest.mark.parametrize("value", ["abc", "-5", "0", str(2**64), "12 34", "1e18"])
def test_bad_guild_id(value):
    assert "DISCORD_GUILD_ID" in config_error(DISCORD_GUILD_ID=value)


def test_good_guild_id():
    assert load(DISCORD_GUILD_ID="123456789012345678").guild_id == 123456789012345678


def test_bad_boolean():
    assert "GLOSSARY_MESSAGE_CONTENT must be true or false" in config_error(GLOSSARY_MESSAGE_CONTENT="maybe")


def test_long_values_are_shortened_in_messages():
    message = config_error(GLOSSARY_BATCH_SIZE="9" * 10_000 + "x")
    assert len(message) < 150


@pytest.mark.parametrize("name", ["GLOSSARY_FILE", "GLOSSARY_INDEX", "GLOSSARY_STATE_DB"])
def test_file_setting_that_is_a_folder(tmp_path, name):
    message = config_error(**{name: str(tmp_path)})
    assert name in message and "is a folder" in message


@pytest.mark.parametrize("name", ["GLOSSARY_DATA_DIR", "GLOSSARY_MODEL_DIR", "GLOSSARY_CACHE_DIR"])
def test_folder_setting_that_is_a_file(tmp_path, name):
    file = tmp_path / "file.txt"
    file.write_text("x")
    message = config_error(**{name: str(file)})
    assert name in message and "is a file" in message


@pytest.mark.parametrize("value", ["a\x00b", "\ud800.db"])
def test_impossible_paths(value):
    assert "GLOSSARY_INDEX is not a usable path" in config_error(GLOSSARY_INDEX=value)


def test_index_must_not_be_the_state_db_or_the_glossary(tmp_path):
    same = str(tmp_path / "x.db")
    assert "GLOSSARY_INDEX and GLOSSARY_STATE_DB" in config_error(GLOSSARY_INDEX=same, GLOSSARY_STATE_DB=same)
    assert "GLOSSARY_INDEX and GLOSSARY_FILE" in config_error(
        GLOSSARY_INDEX=str(tmp_path / "g.txt"), GLOSSARY_FILE=str(tmp_path / "." / "g.txt"))


@pytest.mark.parametrize("value", ["abc def", "tok\u00e9n", "a\tb", "\x00abc"])
def test_token_with_impossible_characters_is_refused_without_echoing_it(value):
    message = config_error(DISCORD_TOKEN=value)
    assert "DISCORD_TOKEN" in message and value not in message


@pytest.mark.parametrize("value", [
    "paste-the-token-here",  # the README's placeholder
    "1234567890123456789",  # the Application ID
    "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW",  # a Client Secret
    "0f" * 32,  # a Public Key
    "MTIzNDU2Nzg5.abcdef", "MTIzNDU2Nzg5..abcdef", "MTIzNDU2Nzg5.abc.def.ghi", ".abc.def",
])
def test_a_token_that_is_no_token_is_refused_without_echoing_it(value):
    """QA58 N10: only Discord found these, and offline the bot said "cannot reach Discord" for ever."""
    message = config_error(DISCORD_TOKEN=value)
    assert message.startswith("DISCORD_TOKEN is ") and "Reset Token" in message and value not in message
    assert ("Application ID (only digits)" in message) == value.isdigit()


@pytest.mark.parametrize("value", ["MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abc_DEF-123xyz", "abc.def.ghi",
                                   "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ==.GaBcDe.abc"])
def test_a_token_of_three_dotted_parts_is_taken(value):
    assert load(DISCORD_TOKEN=value).discord_token == value


def test_run_with_the_placeholder_token_stops_at_once_with_exit_78(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "paste-the-token-here")
    assert main(["run"]) == 78  # as a token with spaces is: restarting cannot fix it
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("glossary-bot: DISCORD_TOKEN is not a bot token")
    assert "paste-the-token-here" not in err


@pytest.mark.parametrize(("name", "value"), [
    ("DISCORD_API_BASE", "localhost:8080"), ("DISCORD_API_BASE", "ftp://x"), ("DISCORD_API_BASE", "http://"),
    ("DISCORD_GATEWAY_URL", "http://127.0.0.1:1"), ("DISCORD_GATEWAY_URL", "wss://a b"),
])
def test_endpoint_urls(name, value):
    assert name in config_error(**{name: value})


def test_good_endpoint_urls():
    s = load(DISCORD_API_BASE="http://127.0.0.1:8080/api/v10", DISCORD_GATEWAY_URL="ws://127.0.0.1:8081")
    assert s.api_base == "http://127.0.0.1:8080/api/v10" and s.gateway_url == "ws://127.0.0.1:8081"


@pytest.mark.parametrize("value", ["all MiniLM", "model\x00", "é" * 3])
def test_model_name_shape(value):
    assert "GLOSSARY_MODEL must be `bundled`" in config_error(GLOSSARY_MODEL=value)


def test_unreadable_dotenv_is_a_config_error(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("GLOSSARY_BATCH_SIZE=2\n")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)  # root can read any file, so fake the denial
    with pytest.raises(ConfigError, match=r"cannot read .*\.env \(Permission denied\)"):
        Settings.load(environ={}, dotenv=dotenv)


def test_dotenv_that_is_a_folder_is_ignored(tmp_path):
    assert read_dotenv(tmp_path) == {}


def test_dotenv_that_is_not_utf8_is_a_config_error_naming_the_file(tmp_path):
    # Ignored, one accented Latin-1 comment would drop every setting, the token included.
    bad = tmp_path / ".env"
    bad.write_bytes(b"# token du caf\xe9\nDISCORD_TOKEN=abc.def.ghi\n")
    with pytest.raises(ConfigError, match=r"\.env is not UTF-8 text \(byte 15\): save it as UTF-8"):
        Settings.load(environ={}, dotenv=bad)


def test_dotenv_saved_with_a_bom_keeps_its_first_setting(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_bytes("\ufeffDISCORD_TOKEN=abc.def.ghi\nGLOSSARY_BATCH_SIZE=2\n".encode("utf-8"))
    settings = Settings.load(environ={}, dotenv=dotenv)
    assert settings.discord_token == "abc.def.ghi" and settings.batch_size == 2


@pytest.mark.parametrize("line, value", [
    ("export\tGLOSSARY_BATCH_SIZE=2", "2"),
    ("GLOSSARY_BATCH_SIZE=2 # two of them", "2"),
    ("GLOSSARY_BATCH_SIZE='2' # quoted, then a comment", "2"),
    ("DISCORD_TOKEN=abc#def", "abc#def"),  # a # inside a value is no comment
    ('DISCORD_TOKEN="a # b"', "a # b"),
])
def test_dotenv_reads_shell_style_lines_as_compose_does(tmp_path, line, value):
    dotenv = tmp_path / ".env"
    dotenv.write_text(line + "\n", encoding="utf-8")
    assert list(read_dotenv(dotenv).values()) == [value]


def test_cli_reports_a_bad_setting_in_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOSSARY_BATCH_SIZE", "0")
    assert main(["define", "attention"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("glossary-bot: GLOSSARY_BATCH_SIZE must be between 1 and 8")


def test_cli_index_option_that_is_a_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["define", "attention", "--index", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith("glossary-bot: --index must be a file, but")


# -- properties --------------------------------------------------------------------------------


@FAST
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5))
def test_any_environment_gives_settings_or_a_config_error(env):
    try:
        s = Settings.load(environ=env, dotenv=NO_DOTENV)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 300
        assert any(key in message for key in KEYS)  # names the variable to fix
        return
    assert 1 <= s.batch_size <= 8
    assert s.guild_id is None or 1 <= s.guild_id < 2**64
    assert isinstance(s.message_content, bool)
    assert s.discord_token is None or s.discord_token.isascii() and " " not in s.discord_token
    for path in (s.glossary_path, s.index_path, s.state_path, s.model_dir, s.cache_dir):
        assert isinstance(path, Path) and "\x00" not in str(path)


@FAST
@given(st.binary(max_size=300) | st.text(ANY_CHAR, max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_dotenv_file_reads_as_strings(tmp_path_factory, content):
    dotenv = tmp_path_factory.mktemp("dotenv") / ".env"
    dotenv.write_bytes(content)
    try:
        values = read_dotenv(dotenv)
    except ConfigError as exc:
        assert "not UTF-8" in str(exc) and "\n" not in str(exc)
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())


@FAST
@given(VALUES)
def test_parse_time_returns_a_time_or_schedule_error(text):
    try:
        parsed = parse_time(text)
    except ScheduleError as exc:
        assert "HH:MM" in str(exc) and "\n" not in str(exc).replace("\\n", "")
        return
    assert isinstance(parsed, time)


@FAST
@given(st.integers(0, 23), st.integers(0, 59))
def test_parse_time_reads_every_valid_time(hours, minutes):
    assert parse_time(f" {hours}:{minutes:02d} ") == time(hours, minutes)


@FAST
@given(st.one_of(VALUES, st.sampled_from(["America", "Etc", "Europe/", "a" * 300, "../../etc/passwd",
                                           "Europe/../UTC", "utc", "Z", "Europe/Berlin"])))
def test_parse_zone_returns_a_zone_or_schedule_error(name):
    try:
        zone = parse_zone(name)
    except ScheduleError as exc:
        assert "IANA" in str(exc)
        return
    assert isinstance(zone, tzinfo)


@pytest.mark.parametrize("name", ["America", "Etc", "a" * 300])
def test_parse_zone_folder_or_overlong_name_is_a_schedule_error(name):
    with pytest.raises(ScheduleError, match="unknown time zone"):
        parse_zone(name)
