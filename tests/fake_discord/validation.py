"""Discord's limits on message bodies and command payloads (answered as 50035/50006)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .models import (
    _COMMAND_NAME_RE,
    ComponentType,
    FakeDiscordError,
    OptionType,
    _form_error,
)


def _validate_message_body(body: Mapping[str, Any], *, has_files: bool = False, partial: bool = False) -> None:
    """Enforce the Discord limits that bots most often trip over (raises 50035/50006)."""
    problems: list[tuple[str, str, str]] = []
    content = body.get("content")
    if content is not None and len(str(content)) > 2000:
        problems.append(("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."))
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append(("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."))
    total = 0
    limits = {"title": 256, "description": 4096}
    for i, embed in enumerate(embeds):
        for key, limit in limits.items():
            value = embed.get(key)
            if value is not None:
                total += len(value)
                if len(value) > limit:
                    problems.append(
                        (f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
                    )
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append((f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        for j, fld in enumerate(fields):
            name, value = str(fld.get("name", "")), str(fld.get("value", ""))
            total += len(name) + len(value)
            if not name or len(name) > 256:
                problems.append(
                    (f"embeds.{i}.fields.{j}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 256 in length.")
                )
            if not value or len(value) > 1024:
                problems.append(
                    (f"embeds.{i}.fields.{j}.value", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1024 in length.")
                )
        footer = (embed.get("footer") or {}).get("text")
        if footer:
            total += len(footer)
            if len(footer) > 2048:
                problems.append((f"embeds.{i}.footer.text", "BASE_TYPE_MAX_LENGTH", "Must be 2048 or fewer in length."))
        author = (embed.get("author") or {}).get("name")
        if author:
            total += len(author)
            if len(author) > 256:
                problems.append((f"embeds.{i}.author.name", "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length."))
    if total > 6000:
        problems.append(("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"))
    components = body.get("components") or []
    flags = int(body.get("flags") or 0)
    if not flags & (1 << 15):  # classic (non components-v2) layout rules
        if len(components) > 5:
            problems.append(("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
        for i, row in enumerate(components):
            children = row.get("components") or []
            if row.get("type") == ComponentType.ACTION_ROW and len(children) > 5:
                problems.append((f"components.{i}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."))
    for path, comp in _walk_components(components):
        custom_id = comp.get("custom_id")
        if custom_id is not None and not 1 <= len(custom_id) <= 100:
            problems.append(
                (f"components.{path}.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            )
        label = comp.get("label")
        if comp.get("type") == ComponentType.BUTTON and label is not None and len(label) > 80:
            problems.append((f"components.{path}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."))
    if problems:
        raise _form_error(problems)
    if not partial and not (
        content or embeds or components or has_files or body.get("poll") or body.get("attachments")
    ):
        raise FakeDiscordError(400, 50006, "Cannot send an empty message")


def _validate_commands(commands: Sequence[Mapping[str, Any]]) -> None:
    """Reject command payloads the way Discord's bulk-overwrite endpoint would."""
    problems: list[tuple[str, str, str]] = []
    seen: set[tuple[str, int]] = set()
    if len(commands) > 110:
        problems.append(("_root", "BASE_TYPE_MAX_LENGTH", "Must be 110 or fewer in length."))

    def check_options(path: str, options: Sequence[Mapping[str, Any]]) -> None:
        if len(options) > 25:
            problems.append((f"{path}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))
        optional_seen = False
        for k, opt in enumerate(options):
            opath = f"{path}.options.{k}"
            name = str(opt.get("name", ""))
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                problems.append((f"{opath}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
            if not 1 <= len(str(opt.get("description", ""))) <= 100:
                problems.append(
                    (f"{opath}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
                )
            if opt.get("type") in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP):
                check_options(opath, opt.get("options") or [])
                continue
            if opt.get("required"):
                if optional_seen:
                    problems.append(
                        (
                            opath,
                            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                            "Required options must be placed before non-required options",
                        )
                    )
            else:
                optional_seen = True
            if len(opt.get("choices") or []) > 25:
                problems.append((f"{opath}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."))

    for i, cmd in enumerate(commands):
        ctype = int(cmd.get("type", 1))
        name = str(cmd.get("name", ""))
        if (name, ctype) in seen:
            problems.append(
                (
                    f"{i}.name",
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique ({name})",
                )
            )
        seen.add((name, ctype))
        if ctype == 1:
            if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                problems.append((f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"))
            if not 1 <= len(str(cmd.get("description", ""))) <= 100:
                problems.append((f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."))
            check_options(str(i), cmd.get("options") or [])
        elif not 1 <= len(name) <= 32:
            problems.append((f"{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."))
    if problems:
        raise _form_error(problems)


def _walk_components(
    components: Sequence[Mapping[str, Any]], prefix: str = ""
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield every component (classic rows and components-v2 containers/sections/labels)."""
    for i, comp in enumerate(components):
        path = f"{prefix}{i}"
        yield path, comp
        yield from _walk_components(comp.get("components") or [], f"{path}.components.")
        for key in ("component", "accessory"):
            child = comp.get(key)
            if isinstance(child, Mapping):
                yield from _walk_components([child], f"{path}.{key}.")
