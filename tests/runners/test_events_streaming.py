"""Streaming nodes on both runners: generator chunks become events, the value is joined."""

from __future__ import annotations

import asyncio
from typing import Any

from graphflow import AsyncRunner, Graph, NodeStartEvent, StreamingChunkEvent, node


def _run(harness: Any, recorder: Any, graph: Graph, inputs: dict[str, Any]) -> Any:
    return harness.run(graph, inputs, runner=harness.make(event_processors=[recorder]))


def _of(recorder: Any, cls: type) -> list[Any]:
    return [e for e in recorder.events if isinstance(e, cls)]


def test_sync_generator_streams_str_chunks_and_joins_them(harness: Any, recorder: Any) -> None:
    @node(output_name="text")
    def speak(x: int) -> Any:
        yield from ("he", "llo", f" {x}")

    out = _run(harness, recorder, Graph([speak]), {"x": 7})
    assert out == {"text": "hello 7"}
    chunks = _of(recorder, StreamingChunkEvent)
    assert [c.chunk for c in chunks] == ["he", "llo", " 7"]
    assert [c.chunk_index for c in chunks] == [0, 1, 2]
    assert all(c.node_name == "speak" for c in chunks)
    start = _of(recorder, NodeStartEvent)[0]
    assert all(c.span_id == start.span_id for c in chunks)
    names = recorder.names()
    assert names.index("NodeStartEvent:speak") < names.index("StreamingChunkEvent:speak")
    assert names.index("NodeEndEvent:speak") == len(names) - 2


def test_sync_generator_with_non_str_chunks_gives_a_list(harness: Any, recorder: Any) -> None:
    @node(output_name="items")
    def produce(x: int) -> Any:
        yield x
        yield "two"
        yield [3]

    out = _run(harness, recorder, Graph([produce]), {"x": 1})
    assert out == {"items": [1, "two", [3]]}
    assert len(_of(recorder, StreamingChunkEvent)) == 3


def test_async_generator_streams_on_async_runner(recorder: Any) -> None:
    @node(output_name="text")
    async def speak(x: int) -> Any:
        for part in ("a", "b", "c"):
            await asyncio.sleep(0)
            yield part

    result = asyncio.run(AsyncRunner(event_processors=[recorder]).run(Graph([speak]), {"x": 1}))
    assert result.outputs == {"text": "abc"}
    chunks = _of(recorder, StreamingChunkEvent)
    assert [(c.chunk, c.chunk_index) for c in chunks] == [("a", 0), ("b", 1), ("c", 2)]
    assert recorder.names()[-2] == "NodeEndEvent:speak"


def test_async_generator_with_non_str_chunks_gives_a_list(recorder: Any) -> None:
    @node(output_name="items")
    async def produce(x: int) -> Any:
        yield x
        yield {"k": x}

    result = asyncio.run(AsyncRunner(event_processors=[recorder]).run(Graph([produce]), {"x": 2}))
    assert result.outputs == {"items": [2, {"k": 2}]}
    assert [c.chunk_index for c in _of(recorder, StreamingChunkEvent)] == [0, 1]
