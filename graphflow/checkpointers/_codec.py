"""Steps to bytes and back, shared by every checkpointer so they fail and store alike.

A step is stored as two parts: ``meta``, JSON of everything graphflow itself controls
(names, versions, execution records, decisions), and ``data``, the serialized values laid
end to end; ``meta`` points into ``data`` with ``[offset, length]``. Identical serialized
values within one step (a node's output and the step's new value of that name) are stored
once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from graphflow.checkpointers.errors import CheckpointError, SerializationError
from graphflow.checkpointers.serializers import JsonSerializer, Serializer
from graphflow.checkpointers.types import INPUTS, SUPERSTEP, Step, StepResult

__all__ = ["EncodedStep", "decode_step", "encode_step"]

_META_FORMAT = 1


@dataclass(frozen=True)
class EncodedStep:
    """A step ready to store: every value already serialized."""

    workflow_id: str
    index: int
    run_id: str
    kind: str
    superstep: int
    created_at: float
    meta: str
    data: bytes


class _Blob:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.seen: dict[bytes, list[int]] = {}

    def add(self, data: bytes) -> list[int]:
        where = self.seen.get(data)
        if where is None:
            where = self.seen[data] = [self.size, len(data)]
            self.parts.append(data)
            self.size += len(data)
        return where


def _fix_hint(serializer: Serializer) -> str:
    if isinstance(serializer, JsonSerializer):
        return (
            "How to fix: return JSON-friendly values (str, int, float, bool, None, and lists "
            "and dicts with str keys of those), or pass serializer=PickleSerializer() to the "
            "checkpointer (only for a database nobody else can write)."
        )
    return f"How to fix: produce values {serializer!r} can store, or use another serializer."


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, TypeError) else f"{type(exc).__name__}: {exc}"


def _dump(serializer: Serializer, value: Any, step: Step, node: str | None, name: str) -> bytes:
    try:
        data = serializer.dumps(value)
        if not isinstance(data, bytes):
            raise TypeError(f"{serializer!r}.dumps returned {type(data).__name__}, not bytes")
    except Exception as exc:
        wf = step.workflow_id
        if node is not None:
            what = f"Cannot save output {name!r} of node {node!r} in workflow {wf!r}"
        elif step.kind == INPUTS:
            what = (
                f"Cannot save input {name!r} of workflow {wf!r} "
                f"(the value was given as an input of run {step.run_id!r})"
            )
        else:
            what = f"Cannot save value {name!r} of superstep {step.superstep} in workflow {wf!r}"
        raise SerializationError(
            f"{what}: {_reason(exc)}. Nothing of this step was saved.\n\n{_fix_hint(serializer)}",
            workflow_id=wf,
            node=node,
            output=name,
        ) from exc
    return data


def _check_shape(step: Step) -> None:
    problems = []
    if not isinstance(step.workflow_id, str) or not step.workflow_id:
        problems.append(f"workflow_id must be a non-empty str, got {step.workflow_id!r}")
    if step.kind not in (INPUTS, SUPERSTEP):
        problems.append(f"kind must be {INPUTS!r} or {SUPERSTEP!r}, got {step.kind!r}")
    if type(step.index) is not int or step.index < -1:
        problems.append(f"index must be -1 (assign the next) or an int >= 0, got {step.index!r}")
    names = [*step.values, *step.versions]
    for result in step.results:
        names += [result.node, *result.outputs, *result.consumed]
    problems += [f"names must be str, got {n!r}" for n in names if not isinstance(n, str)]
    versions = [*step.versions.values()]
    for result in step.results:
        versions += [*result.consumed.values()]
        if result.answered is not None:
            versions.append(result.answered)
    problems += [f"versions must be int, got {v!r}" for v in versions if type(v) is not int]
    if problems:
        raise CheckpointError(
            f"Cannot save a step of workflow {step.workflow_id!r}: "
            + "; ".join(dict.fromkeys(problems))
            + "."
        )


def encode_step(step: Step, serializer: Serializer) -> EncodedStep:
    """Serialize every value of ``step``; nothing is written anywhere.

    Raises:
        SerializationError: a value cannot be serialized (names the node and the output).
        CheckpointError: the step itself is malformed (bad kind, index, names or versions).
    """
    _check_shape(step)
    blob = _Blob()
    by_object: dict[str, tuple[Any, bytes]] = {}
    results = []
    for result in step.results:
        outputs = []
        for name, value in result.outputs.items():
            data = _dump(serializer, value, step, result.node, name)
            by_object.setdefault(name, (value, data))
            outputs.append([name, *blob.add(data)])
        results.append(
            {
                "node": result.node,
                "outputs": outputs,
                "consumed": result.consumed,
                "decision": result.decision,
                "answered": result.answered,
                "cached": bool(result.cached),
                "duration_ms": float(result.duration_ms),
            }
        )
    values = []
    for name, value in step.values.items():
        known = by_object.get(name)
        if known is not None and known[0] is value:
            data = known[1]
        else:
            producer = next((r.node for r in step.results if name in r.outputs), None)
            data = _dump(serializer, value, step, producer, name)
        values.append([name, *blob.add(data)])
    meta = {
        "format": _META_FORMAT,
        "values": values,
        "versions": step.versions,
        "results": results,
    }
    return EncodedStep(
        workflow_id=step.workflow_id,
        index=step.index,
        run_id=str(step.run_id),
        kind=step.kind,
        superstep=int(step.superstep),
        created_at=float(step.created_at),
        meta=json.dumps(meta, separators=(",", ":")),
        data=b"".join(blob.parts),
    )


def decode_step(encoded: EncodedStep, serializer: Serializer) -> Step:
    """Rebuild a step; every value is freshly loaded (no object is shared with the store).

    Raises:
        CheckpointError: the stored data cannot be read with ``serializer``.
    """
    loaded: dict[tuple[int, int], Any] = {}

    def load(name: str, offset: int, length: int) -> Any:
        key = (offset, length)
        if key not in loaded:
            try:
                loaded[key] = serializer.loads(encoded.data[offset : offset + length])
            except Exception as exc:
                raise CheckpointError(
                    f"Cannot read value {name!r} of step {encoded.index} of workflow "
                    f"{encoded.workflow_id!r} with {serializer!r}: {type(exc).__name__}: "
                    f"{exc}.\n\nHow to fix: open the database with the serializer that "
                    "wrote it (for example serializer=PickleSerializer())."
                ) from exc
        return loaded[key]

    meta = json.loads(encoded.meta)
    if meta.get("format") != _META_FORMAT:
        raise CheckpointError(
            f"Cannot read step {encoded.index} of workflow {encoded.workflow_id!r}: it was "
            f"written in step format {meta.get('format')!r}, this graphflow reads "
            f"{_META_FORMAT}.\n\nHow to fix: read it with the graphflow version that wrote it."
        )
    results = tuple(
        StepResult(
            node=r["node"],
            outputs={name: load(name, off, size) for name, off, size in r["outputs"]},
            consumed=r["consumed"],
            decision=r["decision"],
            answered=r["answered"],
            cached=r["cached"],
            duration_ms=r["duration_ms"],
        )
        for r in meta["results"]
    )
    return Step(
        workflow_id=encoded.workflow_id,
        index=encoded.index,
        run_id=encoded.run_id,
        kind=encoded.kind,
        superstep=encoded.superstep,
        values={name: load(name, off, size) for name, off, size in meta["values"]},
        versions=meta["versions"],
        results=results,
        created_at=encoded.created_at,
    )
