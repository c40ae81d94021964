"""How values and exceptions are written onto spans: bounded text that never raises."""

from __future__ import annotations

import json
from typing import Any

from graphflow.processors._names import TRUNCATED_MARKER

__all__ = ["describe_error", "error_type_name", "render_value"]


def error_type_name(exc: BaseException) -> str:
    """The exception's qualified class name, as ``error.type`` and the SDK's exception event.

    Example:
        >>> error_type_name(ValueError("x"))
        'ValueError'
    """
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "", None) else f"{module}.{cls.__qualname__}"


def describe_error(exc: BaseException) -> str:
    """``"{Type}: {message}"``, the span status description of a failure."""
    try:
        message = str(exc)
    except Exception:  # a broken __str__ must not break telemetry
        message = "<unprintable>"
    return f"{type(exc).__name__}: {message}"


def render_value(value: Any, max_length: int) -> str:
    """A value as JSON (else ``repr``), cut to ``max_length`` characters; never raises.

    A cut value ends with the ``…[truncated]`` marker and is ``max_length`` characters long
    in all (just the marker when ``max_length`` is shorter than it).

    Example:
        >>> render_value({"k": [1, 2]}, 100)
        '{"k": [1, 2]}'
        >>> render_value("x" * 50, 20)
        '"xxxxxxx…[truncated]'
    """
    try:
        text = json.dumps(value, ensure_ascii=False)
    except Exception:  # not JSON-serializable (or circular, or too deep): fall back to repr
        try:
            text = repr(value)
        except Exception:
            text = f"<{type(value).__qualname__} object>"
    if len(text) > max_length:
        text = text[: max(max_length - len(TRUNCATED_MARKER), 0)] + TRUNCATED_MARKER
    return text
