"""Traces read back from Jaeger's ``/api/v3`` query API (and any OTLP/JSON), as trace trees.

:class:`JaegerClient` fetches a trace by id and returns the same plain-data forest as
``capture_traces().tree()``, so the same :func:`~graphflow.testing.assert_tree` outline checks
the spans a real exporter delivered to a real store::

    client = JaegerClient("http://127.0.0.1:16686")
    tree = client.get_trace(f"{span.get_span_context().trace_id:032x}")
    assert_tree(tree, '''
    run pipeline
    ├── node fetch
    └── node embed
    ''')

What the client relies on, from Jaeger's documented API (``api_v3`` HTTP gateway):

- ``GET /api/v3/traces/{trace_id}`` (hex trace id) with the optional time bounds
  ``startTime`` / ``endTime`` (RFC 3339, nanoseconds). Releases before the camelCase names
  read ``start_time`` / ``end_time``; the client sends both spellings (the canonical one wins
  where both are understood).
- ``GET /api/v3/traces?query.serviceName=...&query.startTimeMin=...&query.startTimeMax=...``
  (also sent as ``query.service_name`` etc. for older releases) to search.
- 200 answers ``{"result": {"resourceSpans": [...]}}``: the OTLP trace data in JSON. Trace
  and span ids are hex in Jaeger 2.x (the OTLP/JSON encoding) and base64 where the protobuf
  JSON mapping is used (older ``api_v3`` gateways); both are read.
- A trace that is not stored yet answers 404 (``{"error": {"httpCode": 404, ...}}``), as does
  a search that finds nothing. Spans arrive in batches, so :meth:`JaegerClient.get_trace`
  polls until the trace is there (and, with ``min_spans``, complete) or the deadline passes.

Tested against a local stand-in that serves graphflow's own OTLP/JSON (from
``graphflow.exporters.FileSpanExporter``) the way Jaeger's documented API does
(``tests/services/test_jaeger_client.py``), not against a live Jaeger: none can run where this
was written. :func:`tree_from_otlp_json` is the converter underneath; it reads any OTLP/JSON
trace payload (a ``FileSpanExporter`` line, an OTLP/HTTP JSON body, a Jaeger answer).
Standard library only: no OpenTelemetry SDK is needed to read traces back.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from graphflow.processors._names import ATTR_SPAN_ROLE
from graphflow.testing.tree import SpanEventData, SpanTree

__all__ = ["JaegerClient", "TraceNotFoundError", "tree_from_otlp_json"]

_STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}
_HEX = frozenset("0123456789abcdefABCDEF")


class TraceNotFoundError(AssertionError, TimeoutError):
    """The trace was not (completely) stored before the deadline.

    An ``AssertionError`` (a test fails, it does not error) and a ``TimeoutError``.
    """


# ------------------------------------------------------------------------------ OTLP/JSON
def _normalize_id(value: object, size: int) -> str:
    """A trace (16 bytes) or span (8 bytes) id as lowercase hex, from hex or base64."""
    if not isinstance(value, str) or not value:
        return ""
    if len(value) == 2 * size and _HEX.issuperset(value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise ValueError(f"{value!r} is neither a {size}-byte hex nor a base64 id")
    return raw.hex()


def _any_value(value: Mapping[str, Any]) -> Any:
    """An OTLP ``AnyValue`` (JSON) as a Python value; arrays become tuples, as in the SDK."""
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])  # a string in JSON (64-bit)
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return tuple(_any_value(v) for v in value["arrayValue"].get("values", ()))
    if "kvlistValue" in value:
        return _attributes(value["kvlistValue"].get("values", ()))
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"])
    return None  # an empty AnyValue


def _attributes(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _any_value(item.get("value", {})) for item in items}


def _status(status: Mapping[str, Any] | None) -> tuple[str, str | None]:
    status = status or {}
    code = status.get("code", 0)
    if isinstance(code, str):  # the protobuf JSON mapping writes enum names
        name = code.upper().removeprefix("STATUS_CODE_")
        name = name if name in ("UNSET", "OK", "ERROR") else "UNSET"
    else:
        name = _STATUS_NAMES.get(int(code), "UNSET")
    return name, status.get("message") or None


@dataclass
class _Span:
    trace_id: str
    span_id: str
    parent_id: str
    start: int
    order: int
    tree: SpanTree


def _payloads(data: Any) -> Iterable[Mapping[str, Any]]:
    """The ``{"resourceSpans": ...}`` dicts in ``data`` (Jaeger's wrapper, a list, a line)."""
    if isinstance(data, Mapping):
        if "result" in data:
            yield from _payloads(data["result"])
        elif "resourceSpans" in data:
            yield data
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _payloads(item)


def _otlp_spans(data: Any) -> list[_Span]:
    spans: list[_Span] = []
    for payload in _payloads(data):
        for resource_spans in payload.get("resourceSpans") or ():
            scopes = resource_spans.get("scopeSpans") or resource_spans.get(
                "instrumentationLibrarySpans", ()
            )
            for scope_spans in scopes:
                for raw in scope_spans.get("spans") or ():
                    attributes = _attributes(raw.get("attributes") or ())
                    status, description = _status(raw.get("status"))
                    role = attributes.get(ATTR_SPAN_ROLE)
                    tree = SpanTree(
                        name=raw.get("name", ""),
                        role=role if isinstance(role, str) else None,
                        attributes=attributes,
                        status=status,
                        status_description=description,
                        events=[
                            SpanEventData(
                                name=e.get("name", ""),
                                attributes=_attributes(e.get("attributes") or ()),
                            )
                            for e in raw.get("events") or ()
                        ],
                        children=[],
                    )
                    spans.append(
                        _Span(
                            trace_id=_normalize_id(raw.get("traceId"), 16),
                            span_id=_normalize_id(raw.get("spanId"), 8),
                            parent_id=_normalize_id(raw.get("parentSpanId"), 8),
                            start=int(raw.get("startTimeUnixNano") or 0),
                            order=len(spans),
                            tree=tree,
                        )
                    )
    return spans


def _link(spans: list[_Span]) -> list[SpanTree]:
    """Roots (spans whose parent is not among ``spans``), children in start order."""
    spans = sorted(spans, key=lambda s: (s.start, s.order))
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    roots: list[SpanTree] = []
    for span in spans:
        parent = by_id.get((span.trace_id, span.parent_id)) if span.parent_id else None
        (parent.tree["children"] if parent is not None else roots).append(span.tree)
    return roots


def tree_from_otlp_json(data: Any, *, trace_id: str | None = None) -> list[SpanTree]:
    """Spans in OTLP/JSON as a plain-data forest (roots and children in start order).

    Args:
        data: an ``ExportTraceServiceRequest``/``TracesData`` dict (``{"resourceSpans":
            [...]}``), Jaeger's ``{"result": {...}}`` wrapper, or a list of those (e.g. the
            parsed lines of a ``FileSpanExporter`` file). Ids may be hex or base64; enums
            integers or names; 64-bit integers strings or numbers.
        trace_id: keep only this trace (hex or base64).

    Raises:
        ValueError: an id is neither hex nor base64 of the right length.

    Example:
        >>> lines = [json.loads(line) for line in open("out/spans.jsonl")]
        >>> print(format_tree(tree_from_otlp_json(lines)))
        run pipeline
        └── node double
    """
    spans = _otlp_spans(data)
    if trace_id is not None:
        wanted = _normalize_id(trace_id, 16)
        spans = [s for s in spans if s.trace_id == wanted]
    return _link(spans)


def _count(tree: Iterable[SpanTree]) -> int:
    return sum(1 + _count(span["children"]) for span in tree)


def _rfc3339(moment: datetime | float) -> str:
    """RFC 3339 in UTC with nanosecond digits, as Jaeger's ``time.RFC3339Nano`` parses it."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # naive: taken as UTC
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 1000:09d}Z"


# ------------------------------------------------------------------------------ the client
class JaegerClient:
    """A small client for Jaeger's ``/api/v3`` query API that returns trace trees.

    Args:
        base_url: the query service, e.g. ``"http://127.0.0.1:16686"`` (a base path such as
            ``"http://host/jaeger"`` is kept).
        timeout: seconds for each HTTP request.

    Example:
        >>> client = JaegerClient("http://127.0.0.1:16686")
        >>> tree = client.get_trace(trace_id_hex, min_spans=5)
        >>> assert_tree(tree, "run pipeline\\n└── node fetch")
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"JaegerClient({self.base_url!r})"

    # ------------------------------------------------------------------ HTTP
    def _get(self, path: str, params: Mapping[str, str]) -> tuple[int, Any]:
        """``(status, parsed JSON body)``; 4xx/5xx are returned, not raised."""
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        return status, parsed

    @staticmethod
    def _error(body: Any) -> str:
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
            return str(body["error"].get("message", body["error"]))
        return str(body)[:500]

    # ------------------------------------------------------------------ traces
    def get_trace_json(
        self,
        trace_id: str,
        *,
        deadline: float = 30.0,
        start_time: datetime | float | None = None,
        end_time: datetime | float | None = None,
        min_spans: int = 1,
        poll_interval: float = 0.2,
    ) -> dict[str, Any]:
        """The raw answer (``{"result": {"resourceSpans": [...]}}``) once the trace is stored.

        See :meth:`get_trace` for the arguments.
        """
        hex_id = _normalize_id(trace_id, 16)
        if not hex_id:
            raise ValueError("trace_id is empty")
        params: dict[str, str] = {}
        if start_time is not None:
            params["startTime"] = params["start_time"] = _rfc3339(start_time)
        if end_time is not None:
            params["endTime"] = params["end_time"] = _rfc3339(end_time)
        path = f"/api/v3/traces/{hex_id}"
        stop = time.monotonic() + deadline
        tries = 0
        last = "no answer yet"
        while True:
            tries += 1
            try:
                status, body = self._get(path, params)
            except OSError as e:  # refused, reset, timed out: the server may be starting
                status, body, last = 0, None, f"no answer: {e}"
            if status == 200 and isinstance(body, dict):
                found = _count(tree_from_otlp_json(body, trace_id=hex_id))
                if found >= min_spans:
                    return body
                last = f"{found} of at least {min_spans} span(s) stored"
            elif status == 404:
                last = f"404 {self._error(body)}"
            elif status == 200:
                last = f"200 with an unexpected body: {str(body)[:200]}"
            elif status and status < 500 and status != 429:
                refused = f"HTTP {status} {self._error(body)}"
                raise AssertionError(f"Jaeger refused GET {path}: {refused}")
            elif status:
                last = f"HTTP {status} {self._error(body)}"
            if time.monotonic() + poll_interval > stop:
                raise TraceNotFoundError(
                    f"trace {hex_id} not found in Jaeger at {self.base_url} within {deadline:g}s "
                    f"({tries} request(s); last: {last}). Was the exporter flushed "
                    "(provider.force_flush()), and does it send to this Jaeger?"
                )
            time.sleep(poll_interval)

    def get_trace(
        self,
        trace_id: str,
        *,
        deadline: float = 30.0,
        start_time: datetime | float | None = None,
        end_time: datetime | float | None = None,
        min_spans: int = 1,
        poll_interval: float = 0.2,
    ) -> list[SpanTree]:
        """One trace as a forest of :class:`SpanTree` (for ``assert_tree``/``format_tree``).

        Polls while Jaeger answers 404 (not stored yet), fewer than ``min_spans`` spans, a
        5xx or no connection, until ``deadline`` seconds have passed.

        Args:
            trace_id: 32 hex digits (``f"{ctx.trace_id:032x}"``) or the base64 form.
            deadline: seconds to keep polling.
            start_time: lower time bound for the lookup (a ``datetime``; naive is UTC, or
                epoch seconds); lets Jaeger search fewer partitions.
            end_time: upper time bound.
            min_spans: wait until at least this many spans of the trace are stored.
            poll_interval: seconds between requests.

        Raises:
            TraceNotFoundError: (an ``AssertionError`` and a ``TimeoutError``) not stored, or
                not completely, before the deadline.
            AssertionError: Jaeger refused the request (a 4xx other than 404).
        """
        body = self.get_trace_json(
            trace_id,
            deadline=deadline,
            start_time=start_time,
            end_time=end_time,
            min_spans=min_spans,
            poll_interval=poll_interval,
        )
        return tree_from_otlp_json(body, trace_id=trace_id)

    def find_traces(
        self,
        service: str,
        operation: str | None = None,
        *,
        start_time: datetime | float | None = None,
        end_time: datetime | float | None = None,
        search_depth: int = 20,
    ) -> dict[str, list[SpanTree]]:
        """Traces of ``service`` (and span name ``operation``), by hex trace id.

        One request: an empty dict when nothing matches (Jaeger answers 404). The time
        window defaults to the last hour (up to a minute ahead, for clock skew).

        Raises:
            AssertionError: Jaeger answered with another error.
        """
        now = datetime.now(UTC)
        low = _rfc3339(start_time if start_time is not None else now - timedelta(hours=1))
        high = _rfc3339(end_time if end_time is not None else now + timedelta(minutes=1))
        params = {
            "query.serviceName": service,
            "query.service_name": service,
            "query.startTimeMin": low,
            "query.start_time_min": low,
            "query.startTimeMax": high,
            "query.start_time_max": high,
            "query.searchDepth": str(search_depth),
            "query.num_traces": str(search_depth),
        }
        if operation is not None:
            params["query.operationName"] = params["query.operation_name"] = operation
        status, body = self._get("/api/v3/traces", params)
        if status == 404:
            return {}
        if status != 200:
            raise AssertionError(
                f"Jaeger refused GET /api/v3/traces: HTTP {status} {self._error(body)}"
            )
        spans = _otlp_spans(body)
        found: dict[str, list[SpanTree]] = {}
        for trace_id in dict.fromkeys(s.trace_id for s in spans):
            found[trace_id] = _link([s for s in spans if s.trace_id == trace_id])
        return found
