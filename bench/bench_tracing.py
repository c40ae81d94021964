"""Tracing overhead per node: graphflow's OpenTelemetryProcessor beside hand-made spans.

Measured in one process with an SDK TracerProvider, a SimpleSpanProcessor and an in-memory
exporter (as the peer benchmark's W5). For a 50-node SyncRunner chain it reports, in µs per
node: the untraced run, the traced run, their difference (tracing's extra cost), and the
cost of making one span per call by hand around the same functions, once with no attributes
(the peer benchmark's floor) and once with the attributes graphflow's contract puts on every
node span. Usage: ``python bench/bench_tracing.py [--repeats 9] [--runs 100]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graphflow import EventProcessor, Graph, SyncRunner, node
from graphflow.events import Event
from graphflow.processors import OpenTelemetryProcessor

N = 50


class _Discard(EventProcessor):
    """Receives every event and does nothing: what building and dispatching events costs."""

    def on_event(self, event: Event) -> None:
        pass


def _chain() -> list[Callable[[int], int]]:
    namespace: dict[str, object] = {}
    exec(
        "\n".join(f"def f{i}(y{i - 1}):\n    return y{i - 1} + 1\n" for i in range(1, N + 1)),
        namespace,
    )
    return [namespace[f"f{i}"] for i in range(1, N + 1)]  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    chain = _chain()
    graph = Graph([node(f, output_name=f"y{i}") for i, f in enumerate(chain, 1)], name="chain")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    plain = SyncRunner()
    traced = SyncRunner(event_processors=[OpenTelemetryProcessor(provider)])
    discard = SyncRunner(event_processors=[_Discard()])

    def loop() -> int:
        v = 1
        for f in chain:
            v = f(v)
        return v

    def by_hand(attributes: bool) -> Callable[[], int]:
        def run() -> int:
            with tracer.start_as_current_span("run chain"):
                v = 1
                for f in chain:
                    attrs = (
                        {
                            "graphflow.span.role": "node",
                            "graphflow.run.id": "0" * 32,
                            "graphflow.event.span_id": "0" * 16,
                            "graphflow.node.name": f.__name__,
                            "graphflow.node.kind": "function",
                            "graphflow.graph.name": "chain",
                        }
                        if attributes
                        else None
                    )
                    with tracer.start_as_current_span(
                        f"node {f.__name__}", attributes=attrs
                    ) as span:
                        v = f(v)
                        if attributes:
                            span.set_attribute("graphflow.node.cached", False)
                return v

        return run

    def lean() -> int:
        """The cheapest spans carrying the contract: every attribute at start, plain attach."""
        root = tracer.start_span("run chain")
        parent = trace.set_span_in_context(root)
        v = 1
        for f in chain:
            span = tracer.start_span(
                f"node {f.__name__}",
                context=parent,
                attributes={
                    "graphflow.span.role": "node",
                    "graphflow.run.id": "0" * 32,
                    "graphflow.event.span_id": "0" * 16,
                    "graphflow.node.name": f.__name__,
                    "graphflow.node.kind": "function",
                    "graphflow.graph.name": "chain",
                    "graphflow.node.cached": False,
                },
                start_time=time.time_ns(),
            )
            token = context.attach(trace.set_span_in_context(span))
            try:
                v = f(v)
            finally:
                context.detach(token)
            span.end(end_time=time.time_ns())
        root.end()
        return v

    cases = {
        "plain loop": loop,
        "SyncRunner, untraced": lambda: plain.run(graph, {"y0": 1})["y50"],
        "SyncRunner, traced": lambda: traced.run(graph, {"y0": 1})["y50"],
        "SyncRunner, no-op processor": lambda: discard.run(graph, {"y0": 1})["y50"],
        "by hand, no attributes": by_hand(False),
        "by hand, graphflow's attributes": by_hand(True),
        "by hand, same, cheapest calls": lean,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):  # interleaved, so drift hits every case alike
        for name, fn in cases.items():
            exporter.clear()
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            for _ in range(args.runs):
                assert fn() == N + 1
            times[name].append((time.perf_counter() - start) / args.runs / N * 1e6)
            gc.enable()
    med = {name: statistics.median(values) for name, values in times.items()}
    for name, value in med.items():
        print(f"{name:34s} {value:8.2f} us/node")
    extra = med["SyncRunner, traced"] - med["SyncRunner, untraced"]
    bare = med["by hand, no attributes"] - med["plain loop"]
    same = med["by hand, graphflow's attributes"] - med["plain loop"]
    floor = med["by hand, same, cheapest calls"] - med["plain loop"]
    print(f"\ntracing's extra cost per node:      {extra:8.2f} us")
    print(
        f"one span per node by hand:          {bare:8.2f} us  -> ratio {extra / bare:.2f} "
        f"(target <= 1.3)"
    )
    print(f"same, with graphflow's attributes:  {same:8.2f} us  -> ratio {extra / same:.2f}")
    print(
        f"same, cheapest calls:               {floor:8.2f} us  -> ratio {extra / floor:.2f}; "
        f"itself {floor / bare:.2f}x the bare span"
    )
    events = med["SyncRunner, no-op processor"] - med["SyncRunner, untraced"]
    print(
        f"events alone (no-op processor):     {events:8.2f} us  -> cheapest contract span plus "
        f"events, with no processor work: {(floor + events) / bare:.2f}x the bare span"
    )


if __name__ == "__main__":
    main()
