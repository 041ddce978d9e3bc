"""Fields and custom level names that the SDK sends with a line (doc/api.md "Structured lines").

`log_message(msg, level, **fields)` and `logging` records' `extra=` carry fields; a level name
other than the five canonical ones (SUCCESS, TRACE, or logging.addLevelName(25, "NOTICE")) is sent
as `level_name` beside the canonical level, so filters and counts still work. What is sent is
built here once per line as a JSON fragment the uploader appends to the line's members.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping, Optional

from . import sdk_stderr

MAX_FIELDS_BYTES = 16 * 1024  # the server's limit (kMaxFieldsBytes)
MAX_KEY_BYTES = 128
CANONICAL = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LEVEL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}\Z")
# What a custom level name means when no number says it (the server's table, core/level.cpp).
_ALIASES = {
    "TRACE": "DEBUG", "VERBOSE": "DEBUG", "NOTICE": "INFO", "SUCCESS": "INFO", "WARN": "WARNING",
    "ERR": "ERROR", "FATAL": "CRITICAL", "PANIC": "CRITICAL", "CRIT": "CRITICAL",
}


def valid_level_name(name: str) -> bool:
    return isinstance(name, str) and _LEVEL_NAME.match(name) is not None


def canonical_level(name: str) -> str:
    upper = name.upper()
    if upper in CANONICAL:
        return upper
    return _ALIASES.get(upper, "INFO")


def extra_members(level_name: Optional[str], fields: Optional[Mapping[str, Any]]) -> str:
    """`,"level_name":"SUCCESS","fields":{...}` (or "" when there is nothing to add).

    Fields that are not JSON are sent as their str(); fields over the server's size limit are
    dropped with one warning (never an exception into the user's code)."""
    out = ""
    if level_name and level_name.upper() not in CANONICAL and valid_level_name(level_name):
        out += ',"level_name":' + json.dumps(level_name.upper())
    if fields:
        try:
            clean = {str(k)[:MAX_KEY_BYTES]: v for k, v in fields.items() if str(k)}
            text = json.dumps(clean, ensure_ascii=False, default=str, allow_nan=False,
                              separators=(",", ":"))
        except (TypeError, ValueError):
            # NaN/Infinity are not JSON: send them as text.
            text = json.dumps(_finite(clean), ensure_ascii=False, default=str, separators=(",", ":"))
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FIELDS_BYTES:
            sdk_stderr.say(f"fields of a line are over {MAX_FIELDS_BYTES} bytes of JSON: not sent",
                           once_key="fields-too-big")
        elif clean:
            out += ',"fields":' + text
    return out


def _finite(value: Any) -> Any:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
