"""graphflow spans through the OTLP exporters (gRPC and HTTP) into a real backend: Phoenix.

Arize Phoenix (started by ``.ci/integration.sh``) is the OTLP receiver here: no Jaeger or
Collector binary can be installed on these machines. Each test runs ``PIPELINE`` with an
``OpenTelemetryProcessor`` on an SDK ``TracerProvider`` that sends through the SDK's
``OTLPSpanExporter`` and also keeps the spans in memory, reads the trace back from Phoenix's
REST API (``GET /v1/projects/{project}/spans``) and checks that the stored tree is the
in-memory one: same outline, same attributes, events and statuses, same parents.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from graphflow import AsyncRunner, MemoryCache, SyncRunner
from graphflow.processors import OpenTelemetryProcessor
from graphflow.testing import SpanEventData, SpanTree, assert_tree, format_tree, tree_from_spans
from tests._services import otlp_grpc_endpoint, phoenix_url
from tests.services._workflows import OUTLINE, PIPELINE, PIPELINE_SPANS, canonical

pytestmark = pytest.mark.service

PROJECT_ATTRIBUTE = "openinference.project.name"  # Phoenix files spans by this resource attribute
DEADLINE = 30.0  # seconds; spans are readable about 1 s after force_flush()


# ------------------------------------------------------------------------------ Phoenix REST
def _get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def phoenix_spans(
    base: str, project: str, trace_id: str, *, expected: int, deadline: float = DEADLINE
) -> list[dict[str, Any]]:
    """The spans of one trace in a Phoenix project, once ``expected`` of them are stored.

    Polls (404 until the project's first span arrives; then fewer spans than expected) until
    ``deadline`` seconds have passed, following ``next_cursor`` pages.
    """
    path = f"{base}/v1/projects/{urllib.parse.quote(project, safe='')}/spans"
    stop = time.monotonic() + deadline
    last = "no answer yet"
    while True:
        spans: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"trace_id": trace_id, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            status, body = _get_json(f"{path}?{urllib.parse.urlencode(params)}")
            if status != 200:
                last = f"HTTP {status}: {str(body)[:200]}"
                break
            spans += [s for s in body["data"] if s["context"]["trace_id"] == trace_id]
            cursor = body.get("next_cursor")
            if not cursor:
                last = f"{len(spans)} of {expected} span(s) stored"
                break
        if len(spans) >= expected:
            return spans
        if time.monotonic() > stop:
            raise AssertionError(
                f"Phoenix at {base} did not store trace {trace_id} of project {project!r} "
                f"within {deadline:g}s (last: {last})"
            )
        time.sleep(0.2)


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value  # sequences: tuples, as in the SDK


def tree_from_phoenix(spans: list[dict[str, Any]]) -> list[SpanTree]:
    """Phoenix REST spans as graphflow's plain-data forest (children in start order)."""
    ordered = sorted(
        enumerate(spans), key=lambda p: (datetime.fromisoformat(p[1]["start_time"]), p[0])
    )
    trees: dict[str, SpanTree] = {}
    parents: dict[str, str | None] = {}
    for _, raw in ordered:
        attributes = {k: _plain(v) for k, v in (raw.get("attributes") or {}).items()}
        role = attributes.get("graphflow.span.role")
        span_id = raw["context"]["span_id"]
        trees[span_id] = SpanTree(
            name=raw["name"],
            role=role if isinstance(role, str) else None,
            attributes=attributes,
            status=raw.get("status_code") or "UNSET",
            status_description=raw.get("status_message") or None,
            events=[
                SpanEventData(
                    name=e["name"],
                    attributes={k: _plain(v) for k, v in (e.get("attributes") or {}).items()},
                )
                for e in raw.get("events") or ()
            ],
            children=[],
        )
        parents[span_id] = raw.get("parent_id")
    roots: list[SpanTree] = []
    for span_id, tree in trees.items():
        parent = parents[span_id]
        (trees[parent]["children"] if parent in trees else roots).append(tree)
    return roots


# ------------------------------------------------------------------------------ the tests
def _run_sync(processor: OpenTelemetryProcessor) -> None:
    runner = SyncRunner(cache=MemoryCache(), event_processors=[processor])
    assert runner.run(PIPELINE, {"url": "docs"})["post"] == "published [2, 4]"


def _run_async(processor: OpenTelemetryProcessor) -> None:
    runner = AsyncRunner(cache=MemoryCache(), event_processors=[processor])
    result = asyncio.run(runner.run(PIPELINE, {"url": "docs"}))
    assert result.outputs["post"] == "published [2, 4]"


def _export_and_compare(
    base: str,
    make_exporter: Callable[[], SpanExporter],
    run: Callable[[OpenTelemetryProcessor], None],
    request: pytest.FixtureRequest,
) -> None:
    project = f"graphflow-{request.node.name}-{uuid.uuid4().hex[:8]}"
    resource = Resource.create({PROJECT_ATTRIBUTE: project, "service.name": "graphflow-tests"})
    provider = TracerProvider(resource=resource, sampler=ALWAYS_ON)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(BatchSpanProcessor(make_exporter()))
    try:
        run(OpenTelemetryProcessor(provider))
        assert provider.force_flush(15_000), "the OTLP exporter did not flush in 15 s"
    finally:
        provider.shutdown()

    local_spans = memory.get_finished_spans()
    assert len(local_spans) == PIPELINE_SPANS
    trace_ids = {f"{s.context.trace_id:032x}" for s in local_spans}
    assert len(trace_ids) == 1, trace_ids
    (trace_id,) = trace_ids
    local = tree_from_spans(local_spans)
    assert_tree(local, OUTLINE)

    stored = tree_from_phoenix(phoenix_spans(base, project, trace_id, expected=PIPELINE_SPANS))
    assert_tree(stored, OUTLINE)
    if canonical(stored) != canonical(local):  # attributes, events, statuses: all of it
        keys = sorted({k for s in local_spans for k in (s.attributes or {})})
        pytest.fail(
            "Phoenix stored a different trace than the one exported:\n"
            f"in memory:\n{format_tree(local, keys, events=True)}\n\n"
            f"in Phoenix:\n{format_tree(stored, keys, events=True)}"
        )


def test_spans_exported_over_otlp_grpc_arrive_whole(request: pytest.FixtureRequest) -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    base = phoenix_url()
    endpoint = otlp_grpc_endpoint()  # Phoenix's gRPC receiver in CI
    _export_and_compare(
        base,
        lambda: OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=10),
        _run_sync,
        request,
    )


def test_spans_exported_over_otlp_http_arrive_whole(request: pytest.FixtureRequest) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base = phoenix_url()
    endpoint = f"{base}/v1/traces"
    _export_and_compare(
        base, lambda: OTLPSpanExporter(endpoint=endpoint, timeout=10), _run_async, request
    )
