"""Classes that subclass an optional SDK base, built on first use.

An exporter such as ``FileSpanExporter`` must subclass the OpenTelemetry SDK's
``SpanExporter``, but the exporters package may not import the SDK at module level (it is
an extra). Its behaviour lives in a plain ``_Impl`` class; :func:`sdk_subclass` joins it
with the SDK base the first time the public name is looked up.
"""

from __future__ import annotations

import functools
from typing import Any

from graphflow._optional import require

__all__ = ["sdk_subclass"]


@functools.cache  # one class per name, even when two threads ask at once
def sdk_subclass(
    name: str, impl: type[Any], base_module: str, base_name: str, module: str
) -> type[Any]:
    """``class <name>(impl, base_module.base_name)``, reported as ``<module>.<name>``.

    Raises:
        MissingDependencyError: the ``otel`` extra is not installed.
    """
    base = getattr(require(base_module, "otel", name), base_name)
    return type(
        name, (impl, base), {"__module__": module, "__qualname__": name, "__doc__": impl.__doc__}
    )
