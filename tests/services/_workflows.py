"""The workflow the service tests export: a nested graph, a gate and a cached node.

``PIPELINE`` on ``{"url": ...}`` runs ``fetch``, the nested graph ``rag`` (``split`` then the
cached ``embed``), the gate ``gate`` (which picks ``publish``) and ``publish``; ``OUTLINE`` is
its trace tree, the same whether the spans were captured in memory or read back from a store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphflow import Graph, node, route
from graphflow.testing import SpanTree


@node(output_name="text")
def fetch(url: str) -> str:
    return f"<{url}>"


@node(output_name="chunks")
def split(text: str) -> list[str]:
    return [text[:2], text[2:]]


@node(output_name="vectors", cache=True)
def embed(chunks: list[str]) -> list[int]:
    return [len(c) for c in chunks]


@route(targets=["publish", "review"])
def gate(vectors: list[int]) -> str:
    return "publish" if sum(vectors) > 0 else "review"


@node(output_name="post")
def publish(vectors: list[int]) -> str:
    return f"published {vectors}"


@node(output_name="held")
def review(vectors: list[int]) -> str:
    return "held"


RAG = Graph([split, embed], name="rag")
PIPELINE = Graph([fetch, RAG.as_node(), gate, publish, review], name="pipeline")
PIPELINE_SPANS = 7  # run, fetch, rag, split, embed, gate, publish

OUTLINE = """
run pipeline  role=run graphflow.graph.name=pipeline graphflow.run.status=completed
├── node fetch  role=node graphflow.node.kind=function graphflow.node.cached=false
├── node rag  role=subgraph graphflow.node.kind=graph
│   ├── node split  role=node
│   └── node embed  role=node graphflow.node.cached=false
├── node gate  role=node graphflow.node.kind=route event=graphflow.route.decision
└── node publish  role=node
"""


def canonical(tree: Sequence[SpanTree]) -> list[dict[str, Any]]:
    """A tree with siblings in a fixed order (by content), for exact comparisons.

    Sibling order follows start times, which two stores may round differently, so exact
    comparisons sort siblings by their content first. Attribute sequences become lists.
    """

    def plain(value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    def one(span: SpanTree) -> dict[str, Any]:
        return {
            "name": span["name"],
            "role": span["role"],
            "attributes": {k: plain(v) for k, v in sorted(span["attributes"].items())},
            "status": span["status"],
            "status_description": span["status_description"],
            "events": [
                {"name": e["name"], "attributes": {k: plain(v) for k, v in e["attributes"].items()}}
                for e in span["events"]
            ],
            "children": canonical(span["children"]),
        }

    return sorted((one(s) for s in tree), key=lambda d: json.dumps(d, sort_keys=True))
