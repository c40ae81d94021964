"""Lazy imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from graphflow.exceptions import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``extra``.

    Args:
        module: the module to import, e.g. ``"daft"``.
        extra: the graphflow extra that installs it, e.g. ``"daft"``.
        feature: what needs it, for the message (defaults to the module name).

    Raises:
        MissingDependencyError: (an ``ImportError``) when the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = feature or module
        raise MissingDependencyError(
            f"{what} needs the optional dependency '{module}', which is not installed.\n\n"
            f"How to fix:\n  pip install 'graphflow-runtime[{extra}]'"
        ) from exc
