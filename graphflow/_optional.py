"""Lazy imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from graphflow.exceptions import MissingDependencyError

__all__ = ["lazy_exports", "require"]


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


def lazy_exports(
    namespace: dict[str, Any], lazy: Mapping[str, str], *, relabel: bool = False
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) loading names on first access.

    Args:
        namespace: the package's ``globals()``; a loaded name is stored there, so later
            lookups skip ``__getattr__``.
        lazy: public name -> module that defines it.
        relabel: set the loaded object's ``__module__`` to the package, so tracebacks and
            reprs show the public path.

    Example:
        >>> __getattr__, __dir__ = lazy_exports(globals(), {"Thing": "pkg.things"})
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        if relabel:
            value.__module__ = package
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *namespace["__all__"]})

    return __getattr__, __dir__
