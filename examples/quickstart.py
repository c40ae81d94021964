"""Quickstart: trace a small document pipeline with OpenTelemetry, no external service needed.

    fetch -> split -> analyze (a nested graph: embed -> score) -> gate -> publish | review

The pipeline runs on SyncRunner (twice with the same input, so the cached ``embed`` node hits
the cache the second time), then maps over three documents, then does the same on AsyncRunner.
Spans go to an in-memory exporter, printed below as trees, and to an OTLP/JSON lines file
(``out/quickstart.spans.jsonl``) that Jaeger's "Upload JSON" and OTLP tools can read.

Run it from the repository root::

    .venv/bin/python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graphflow import AsyncRunner, Graph, MemoryCache, SyncRunner, node, route
from graphflow.exporters import FileSpanExporter
from graphflow.processors import OpenTelemetryProcessor
from graphflow.testing import format_tree, tree_from_spans

SPAN_FILE = Path(__file__).resolve().parent.parent / "out" / "quickstart.spans.jsonl"

# One private provider for the whole example (an application would configure the global one).
provider = TracerProvider(resource=Resource.create({"service.name": "graphflow-quickstart"}))
memory = InMemorySpanExporter()
provider.add_span_processor(SimpleSpanProcessor(memory))
http = provider.get_tracer("quickstart.http")  # stands in for an instrumented HTTP client

CORPUS = {
    "doc://intro": "Graphflow wires plain functions into graphs. Every run is traced.",
    "doc://faq": "Why graphs? Because pipelines branch. Why traces? Because they fail.",
    "doc://draft": "TODO.",
}


# --------------------------------------------------------------------------- the nodes
@node(output_name="text")
def fetch(url: str) -> str:
    # A span made inside a node body nests under the node's span.
    with http.start_as_current_span(f"GET {url}"):
        return CORPUS[url]


@node(output_name="chunks")
def split(text: str) -> list[str]:
    return [part.strip() for part in text.split(".") if part.strip()]


@node(output_name="vectors", cache=True)
def embed(chunks: list[str]) -> list[list[float]]:
    # "expensive": cached by input value, so the second identical run is a cache hit
    return [[b / 255 for b in hashlib.sha256(c.encode()).digest()[:4]] for c in chunks]


@node(output_name="score")
def score(vectors: list[list[float]]) -> float:
    return min(1.0, len(vectors) / 2)  # a toy quality score: enough content?


analyze = Graph([embed, score], name="analyze")


@route(targets=["publish", "review"])
def gate(score: float) -> str:
    return "publish" if score >= 0.75 else "review"


@node(output_name="published")
def publish(text: str, score: float) -> str:
    return f"published ({score}): {text[:30]}..."


@node(output_name="queued")
def review(text: str) -> str:
    return f"needs review: {text!r}"


pipeline = Graph([fetch, split, analyze.as_node(), gate, publish, review], name="pipeline")
OUTPUTS = ["published", "queued"]


# --------------------------------------------------------------------------- the runs
def show(title: str) -> None:
    print(f"\n== {title}\n")
    keys = ("graphflow.route.target", "graphflow.map.item_index")
    print(format_tree(tree_from_spans(memory.get_finished_spans()), keys, events=True))
    memory.clear()


def run_sync() -> None:
    runner = SyncRunner(cache=MemoryCache(), event_processors=[OpenTelemetryProcessor(provider)])
    print(runner.run(pipeline, {"url": "doc://intro"}, select=OUTPUTS))
    print(runner.run(pipeline, {"url": "doc://intro"}, select=OUTPUTS))  # embed: cache hit
    results = runner.map(pipeline, {"url": list(CORPUS)}, map_over="url", select=OUTPUTS)
    print(*results, sep="\n")
    show("SyncRunner: two runs (the second hits the cache) and a map over 3 documents")


async def run_async() -> None:
    runner = AsyncRunner(cache=MemoryCache(), event_processors=[OpenTelemetryProcessor(provider)])
    result = await runner.run(pipeline, {"url": "doc://faq"}, select=OUTPUTS)
    print(result.outputs)
    results = await runner.map(pipeline, {"url": list(CORPUS)}, map_over="url", select=OUTPUTS)
    print(*results, sep="\n")
    show("AsyncRunner: one run and a map over 3 documents (items run concurrently)")


def main() -> None:
    SPAN_FILE.unlink(missing_ok=True)  # FileSpanExporter appends: start each run afresh
    provider.add_span_processor(BatchSpanProcessor(FileSpanExporter(SPAN_FILE)))
    run_sync()
    asyncio.run(run_async())
    provider.shutdown()  # flushes the batch processor into the span file
    where = SPAN_FILE.relative_to(Path.cwd()) if SPAN_FILE.is_relative_to(Path.cwd()) else SPAN_FILE
    print(f"\nspans written to {where} (one OTLP/JSON export request per line)")


if __name__ == "__main__":
    main()
