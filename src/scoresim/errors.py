"""The one error a user sees for bad input: a message, no traceback, exit status 2.

Code raises :class:`ScenarioError` with a message that names the file or argument and what
was expected. At the command line's edge, :func:`one_line` turns the other errors that
input can cause (decoding, recursion, overflow, the file system, Arrow, JSON, TOML, memory)
into such a message too.
"""

from __future__ import annotations

#: The longest piece of user input an error message repeats.
CUT = 80


class ScenarioError(ValueError):
    """A scenario (file, preset name, override or option) that cannot be run, explained."""


def cut(text: object, limit: int = CUT) -> str:
    """``text`` (or its repr for non-strings) cut to ``limit`` characters, with the length
    of what was left out: error messages never echo long input."""
    s = text if isinstance(text, str) else repr(text)
    if len(s) <= limit:
        return s
    return f"{s[:limit]}... ({len(s) - limit:,} more characters)"


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
