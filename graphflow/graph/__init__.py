"""The graph model: nodes, gates, nested graphs, and the Graph that wires them."""

from graphflow.graph.gates import END, GateNode, IfElseNode, RouteNode, ifelse, route
from graphflow.graph.graph import Graph, InputSpec
from graphflow.graph.interrupt import InterruptNode
from graphflow.graph.nested import GraphNode
from graphflow.graph.nodes import BaseNode, FunctionNode, node
from graphflow.graph.validation import validate_map_compatible

__all__ = [
    "END",
    "BaseNode",
    "FunctionNode",
    "GateNode",
    "Graph",
    "GraphNode",
    "IfElseNode",
    "InputSpec",
    "InterruptNode",
    "RouteNode",
    "ifelse",
    "node",
    "route",
    "validate_map_compatible",
]
