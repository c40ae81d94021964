"""JaegerClient against a local stand-in for Jaeger's ``/api/v3`` query API.

No Jaeger can run on these machines, so these tests need no external service: a graphflow run
is written by ``FileSpanExporter`` (OTLP/JSON, hex ids), and a small ``http.server`` on
127.0.0.1 serves it the way Jaeger's documented API does: ``GET /api/v3/traces/{hex id}``
answers 404 until the trace is "stored" (the first few requests here), then
``{"result": {"resourceSpans": [...]}}``; ``GET /api/v3/traces?query.serviceName=...`` needs
``query.startTimeMin``/``query.startTimeMax`` and answers 404 when nothing matches. Jaeger 2.x
writes hex ids (OTLP/JSON); gateways that use the protobuf JSON mapping write base64 ids and
enum names; the stand-in serves both.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from graphflow import Graph, MemoryCache, SyncRunner, node
from graphflow.exporters import FileSpanExporter
from graphflow.processors import OpenTelemetryProcessor
from graphflow.testing import (
    JaegerClient,
    TraceNotFoundError,
    assert_tree,
    tree_from_otlp_json,
    tree_from_spans,
)
from tests.services._workflows import OUTLINE, PIPELINE, PIPELINE_SPANS, canonical

SERVICE = "graphflow-jaeger-test"
# Go's time.RFC3339Nano as time.Parse reads it: fraction optional, "Z" or a numeric offset.
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")
STATUS_NAMES = {0: "STATUS_CODE_UNSET", 1: "STATUS_CODE_OK", 2: "STATUS_CODE_ERROR"}
KIND_NAMES = {1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER", 3: "SPAN_KIND_CLIENT"}


@node(output_name="never")
def broken(url: str) -> str:
    raise ValueError(f"cannot fetch {url}")


FAILING = Graph([broken], name="failing")


# ------------------------------------------------------------------------------ recorded runs
@dataclass
class Recorded:
    """Two traces (PIPELINE, then a failing run) as OTLP/JSON lines and as SDK spans."""

    lines: list[dict[str, Any]]
    spans: tuple[ReadableSpan, ...]

    def trace_id(self, root: str) -> str:
        (span,) = [s for s in self.spans if s.name == root]
        return f"{span.context.trace_id:032x}"

    def local_tree(self, trace_id: str) -> list[Any]:
        return tree_from_spans([s for s in self.spans if f"{s.context.trace_id:032x}" == trace_id])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    path: Path = tmp_path_factory.mktemp("jaeger") / "spans.jsonl"
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE}), sampler=ALWAYS_ON
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(path)))
    runner = SyncRunner(cache=MemoryCache(), event_processors=[OpenTelemetryProcessor(provider)])
    runner.run(PIPELINE, {"url": "docs"})
    with pytest.raises(ValueError, match="cannot fetch docs"):
        runner.run(FAILING, {"url": "docs"})
    provider.shutdown()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(memory.get_finished_spans()) == PIPELINE_SPANS + 2  # + run failing, node broken
    return Recorded(lines, memory.get_finished_spans())


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def as_protobuf_json(payload: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON (hex ids, enum numbers) in the protobuf JSON mapping (base64 ids, enum names)."""
    converted = copy.deepcopy(payload)
    for resource_spans in converted["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = _b64(span[key])
                if "kind" in span:
                    span["kind"] = KIND_NAMES.get(span["kind"], span["kind"])
                status = span.get("status") or {}
                if "code" in status:
                    status["code"] = STATUS_NAMES[status["code"]]
    return converted


# ------------------------------------------------------------------------------ the stand-in
@dataclass
class FakeJaeger:
    """Serves recorded OTLP/JSON the way Jaeger's ``/api/v3`` HTTP API does.

    Attributes:
        not_found_first: GetTrace answers 404 to this many requests per trace first.
        partial_first: then answers with only the first span this many times (a trace whose
            batches are still arriving).
        fail_with: answer every request with this HTTP status instead.
        requests: ``(path, query)`` of every request, in order.
    """

    lines: list[dict[str, Any]]
    encoding: str = "hex"
    not_found_first: int = 0
    partial_first: int = 0
    fail_with: int | None = None
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- data
    def _spans(self) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
        for line in self.lines:
            for resource_spans in line["resourceSpans"]:
                for scope_spans in resource_spans["scopeSpans"]:
                    for span in scope_spans["spans"]:
                        yield resource_spans, scope_spans, span

    def _payload(self, keep: Any, limit: int | None = None) -> dict[str, Any] | None:
        """The kept spans as one ``TracesData`` in this server's encoding (None if none)."""
        resource_spans: list[dict[str, Any]] = []
        for resource, scope, span in self._spans():
            if keep(resource, span) and (limit is None or len(resource_spans) < limit):
                resource_spans.append(
                    {
                        "resource": resource.get("resource", {}),
                        "scopeSpans": [{"scope": scope.get("scope", {}), "spans": [span]}],
                    }
                )
        if not resource_spans:
            return None
        payload = {"resourceSpans": resource_spans}
        return as_protobuf_json(payload) if self.encoding == "base64" else payload

    # -- HTTP
    def handle(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((path, query))
        if self.fail_with is not None:
            return self.fail_with, _error(self.fail_with, "injected failure")
        if path.startswith("/api/v3/traces/"):
            return self._get_trace(path.removeprefix("/api/v3/traces/"), query)
        if path == "/api/v3/traces":
            return self._find_traces(query)
        return 404, _error(404, "404 page not found")

    def _get_trace(self, trace_id: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not re.fullmatch(r"[0-9a-fA-F]{1,32}", trace_id):
            return 400, _error(400, f"malformed parameter trace_id: {trace_id!r}")
        bounds = []
        for canonical_name, deprecated in (("startTime", "start_time"), ("endTime", "end_time")):
            raw = query.get(canonical_name) or query.get(deprecated)
            if raw is not None and not RFC3339.fullmatch(raw):
                return 400, _error(400, f"malformed parameter {canonical_name}: {raw!r}")
            bounds.append(_parse_time(raw) if raw else None)
        low, high = bounds
        with self._lock:
            seen = self._seen[trace_id] = self._seen.get(trace_id, 0) + 1
        if seen <= self.not_found_first:
            return 404, _error(404, "trace not found")

        def keep(resource: dict[str, Any], span: dict[str, Any]) -> bool:
            start = datetime.fromtimestamp(int(span["startTimeUnixNano"]) / 1e9, UTC)
            return (
                span["traceId"] == trace_id.lower()
                and (low is None or start >= low)
                and (high is None or start <= high)
            )

        partial = seen <= self.not_found_first + self.partial_first
        payload = self._payload(keep, limit=1 if partial else None)
        if payload is None:
            return 404, _error(404, "trace not found")
        return 200, {"result": payload}

    def _find_traces(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        low = query.get("query.startTimeMin") or query.get("query.start_time_min")
        high = query.get("query.startTimeMax") or query.get("query.start_time_max")
        if not low or not high:
            return 400, _error(400, "query.startTimeMin and query.startTimeMax are required")
        service = query.get("query.serviceName") or query.get("query.service_name")
        operation = query.get("query.operationName") or query.get("query.operation_name")
        matching = {
            span["traceId"]
            for resource, _, span in self._spans()
            if _service(resource) == service and operation in (None, span["name"])
        }
        payload = self._payload(lambda resource, span: span["traceId"] in matching)
        if payload is None:
            return 404, _error(404, "No traces found")
        return 200, {"result": payload}

    def __enter__(self) -> FakeJaeger:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                status, body = fake.handle(parts.path, query)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def get_trace_requests(self, trace_id: str) -> list[dict[str, str]]:
        return [q for p, q in self.requests if p == f"/api/v3/traces/{trace_id}"]


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"httpCode": code, "message": message}}


def _parse_time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def _service(resource_spans: dict[str, Any]) -> str | None:
    for item in resource_spans.get("resource", {}).get("attributes", ()):
        if item["key"] == "service.name":
            return str(item["value"]["stringValue"])
    return None


# ------------------------------------------------------------------------------ the tests
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_get_trace_polls_past_404_and_returns_the_same_tree(
    recorded: Recorded, encoding: str
) -> None:
    trace_id = recorded.trace_id("run pipeline")
    with FakeJaeger(recorded.lines, encoding=encoding, not_found_first=3) as jaeger:
        client = JaegerClient(jaeger.url, timeout=5)
        now = datetime.now(UTC)
        tree = client.get_trace(
            trace_id,
            deadline=10,
            start_time=now - timedelta(minutes=5),
            end_time=now + timedelta(minutes=1),
            poll_interval=0.05,
        )
    assert_tree(tree, OUTLINE)
    assert canonical(tree) == canonical(recorded.local_tree(trace_id))
    asked = jaeger.get_trace_requests(trace_id)
    assert len(asked) == 4  # three 404s, then the trace
    for query in asked:  # both spellings of the time bounds, RFC 3339 with nanoseconds
        assert query["startTime"] == query["start_time"]
        assert RFC3339.fullmatch(query["startTime"]) and RFC3339.fullmatch(query["endTime"])


def test_a_base64_trace_id_is_accepted_and_sent_as_hex(recorded: Recorded) -> None:
    trace_id = recorded.trace_id("run pipeline")
    with FakeJaeger(recorded.lines, encoding="base64") as jaeger:
        tree = JaegerClient(jaeger.url).get_trace(_b64(trace_id), deadline=5)
    assert_tree(tree, OUTLINE)
    assert [p for p, _ in jaeger.requests] == [f"/api/v3/traces/{trace_id}"]


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_error_status_and_exception_event_survive(recorded: Recorded, encoding: str) -> None:
    trace_id = recorded.trace_id("run failing")
    with FakeJaeger(recorded.lines, encoding=encoding) as jaeger:
        tree = JaegerClient(jaeger.url).get_trace(trace_id, deadline=5)
    assert_tree(
        tree,
        """
        run failing  status=ERROR graphflow.run.status=error
        └── node broken  status=ERROR error.type=ValueError event=exception
        """,
    )
    assert canonical(tree) == canonical(recorded.local_tree(trace_id))
    assert tree[0]["children"][0]["status_description"] == "ValueError: cannot fetch docs"


def test_min_spans_waits_for_a_trace_still_arriving(recorded: Recorded) -> None:
    trace_id = recorded.trace_id("run pipeline")
    with FakeJaeger(recorded.lines, not_found_first=1, partial_first=2) as jaeger:
        tree = JaegerClient(jaeger.url).get_trace(
            trace_id, deadline=10, min_spans=PIPELINE_SPANS, poll_interval=0.05
        )
    assert_tree(tree, OUTLINE)
    assert len(jaeger.get_trace_requests(trace_id)) == 4  # 404, partial, partial, whole


def test_a_trace_never_stored_fails_clearly_at_the_deadline(recorded: Recorded) -> None:
    missing = "0123456789abcdef0123456789abcdef"
    with FakeJaeger(recorded.lines) as jaeger:
        began = time.monotonic()
        with pytest.raises(TraceNotFoundError) as failure:
            JaegerClient(jaeger.url).get_trace(missing, deadline=0.6, poll_interval=0.1)
        waited = time.monotonic() - began
    assert isinstance(failure.value, AssertionError) and isinstance(failure.value, TimeoutError)
    message = str(failure.value)
    assert missing in message and "404 trace not found" in message and jaeger.url in message
    assert 0.4 < waited < 5
    assert len(jaeger.requests) >= 3


def test_an_unreachable_jaeger_fails_at_the_deadline() -> None:
    with socket.socket() as probe:  # a free port: nothing listens there once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = JaegerClient(f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(TraceNotFoundError, match="no answer"):
        client.get_trace("0123456789abcdef0123456789abcdef", deadline=0.3, poll_interval=0.1)


def test_a_refused_request_fails_at_once(recorded: Recorded) -> None:
    with FakeJaeger(recorded.lines, fail_with=400) as jaeger:
        began = time.monotonic()
        with pytest.raises(AssertionError, match="HTTP 400 injected failure") as failure:
            JaegerClient(jaeger.url).get_trace(recorded.trace_id("run pipeline"), deadline=30)
    assert not isinstance(failure.value, TraceNotFoundError)
    assert time.monotonic() - began < 5 and len(jaeger.requests) == 1


def test_a_5xx_is_retried(recorded: Recorded) -> None:
    trace_id = recorded.trace_id("run pipeline")
    with (
        FakeJaeger(recorded.lines, fail_with=503) as jaeger,
        pytest.raises(TraceNotFoundError, match="HTTP 503"),
    ):
        JaegerClient(jaeger.url).get_trace(trace_id, deadline=0.3, poll_interval=0.05)
    assert len(jaeger.requests) > 1


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_find_traces_by_service_and_operation(recorded: Recorded, encoding: str) -> None:
    pipeline, failing = recorded.trace_id("run pipeline"), recorded.trace_id("run failing")
    with FakeJaeger(recorded.lines, encoding=encoding) as jaeger:
        client = JaegerClient(jaeger.url)
        both = client.find_traces(SERVICE)
        only_failing = client.find_traces(SERVICE, "node broken")
        nothing = client.find_traces("another-service")
    assert set(both) == {pipeline, failing}
    assert_tree(both[pipeline], OUTLINE)
    assert list(only_failing) == [failing]
    assert_tree(only_failing[failing], "run failing\n  node broken")
    assert nothing == {}
    query = jaeger.requests[0][1]
    assert query["query.serviceName"] == query["query.service_name"] == SERVICE
    low, high = _parse_time(query["query.startTimeMin"]), _parse_time(query["query.startTimeMax"])
    assert low < datetime.now(UTC) < high


def test_tree_from_otlp_json_reads_file_exporter_lines(recorded: Recorded) -> None:
    trace_id = recorded.trace_id("run pipeline")
    assert_tree(tree_from_otlp_json(recorded.lines, trace_id=trace_id), OUTLINE)
    everything = tree_from_otlp_json(recorded.lines)
    assert sorted(root["name"] for root in everything) == ["run failing", "run pipeline"]
    assert canonical(everything) == canonical(tree_from_spans(recorded.spans))


def test_ids_that_are_neither_hex_nor_base64_are_rejected() -> None:
    with pytest.raises(ValueError, match="neither"):
        tree_from_otlp_json({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]})
    with pytest.raises(ValueError, match="http"):
        JaegerClient("127.0.0.1:16686")
