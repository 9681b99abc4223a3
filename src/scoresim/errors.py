"""The one error a user sees for bad input: a message, no traceback, exit status 2.

Code raises :class:`ScenarioError` with a message that names the file or argument and what
was expected. At the command line's edge, :func:`one_line` turns the other errors that
input can cause (decoding, recursion, overflow, the file system, Arrow, JSON, TOML, memory)
into such a message too.
"""

from __future__ import annotations

import re
import unicodedata

#: The longest piece of user input an error message repeats.
CUT = 80
#: The longest run of characters without a space a message shows (a path, a value).
WORD = 200


class ScenarioError(ValueError):
    """A scenario (file, preset name, override or option) that cannot be run, explained."""


def _escape_char(c: str) -> str:
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _unsafe(c: str) -> bool:
    """Characters a terminal may act on instead of showing: C0 and C1 controls (ESC starts
    escape sequences, OSC 52 writes the clipboard), DEL, format characters (bidirectional
    overrides) and line or paragraph separators."""
    return unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")


def escape(text: str, keep: str = "") -> str:
    """``text`` with every control or format character (but those in ``keep``) written as
    an escape, ``\\x1b``: input echoed in a message can move no cursor and write no
    clipboard."""
    if text.isprintable() and not any(_unsafe(c) for c in text if not c.isascii()):
        return text
    return "".join(_escape_char(c) if c not in keep and _unsafe(c) else c for c in text)


def cut(text: object, limit: int = CUT) -> str:
    """``text`` (or its repr for non-strings) cut to ``limit`` characters, with the length
    of what was left out, and its control characters escaped (:func:`escape`): error
    messages never echo long input, nor input a terminal would act on."""
    s = text if isinstance(text, str) else repr(text)
    if len(s) <= limit:
        return escape(s)
    return f"{escape(s[:limit])}... ({len(s) - limit:,} more characters)"


def cut_path(path: object) -> str:
    """A file or folder name as an error message shows it: whole up to :data:`WORD`
    characters (a message must name the file, and paths run longer than other input),
    cut beyond, escaped as :func:`cut` does."""
    return cut(str(path), WORD)


_LONG_WORD = re.compile(rf"\S{{{WORD + 1},}}")


def shown(message: str) -> str:
    """A message as the edge prints it (the command line, the app's page): control
    characters escaped, line breaks kept, and every run of more than :data:`WORD`
    characters without a space (a long path, a value not cut where it was put into the
    message) cut to :data:`WORD`, whatever part of the code wrote it."""
    message = escape(message, keep="\n\t")
    return _LONG_WORD.sub(lambda m: f"{m[0][:WORD]}... ({len(m[0]) - WORD:,} more characters)",
                          message)


def one_line(exc: BaseException) -> str:
    """A one-line description of an error raised while handling input (not a bug report):
    what went wrong and, where the error knows it, the file."""
    import json
    import tomllib

    if isinstance(exc, ScenarioError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return (f"expected UTF-8 text, found byte 0x{exc.object[exc.start]:02x} at "
                f"position {exc.start}.")
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply."
    if isinstance(exc, MemoryError):
        return ("out of memory: the run needs more memory than this machine has; use fewer "
                "people or days.")
    if isinstance(exc, OverflowError):
        return f"a number is too large: {cut(str(exc))}."
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or cut(str(exc))}."
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} (line {exc.lineno})."
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"not valid TOML: {cut(str(exc))}."
    try:
        import pyarrow as pa

        if isinstance(exc, pa.ArrowException):
            return f"not a readable table: {cut(str(exc), 200)}."
    except ImportError:  # pragma: no cover
        pass
    try:
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
            return f"key `{loc}`: {cut(first['msg'], 200)} ({exc.error_count()} problem(s))."
    except ImportError:  # pragma: no cover
        pass
    return f"{type(exc).__name__}: {cut(str(exc), 200)}"
