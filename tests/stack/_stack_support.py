"""Shared by tests/stack: the stack's files, and PromQL read as far as the checks need it.

``analyse(expr)`` lists the metric names, labels and template variables a dashboard query uses
and what is wrong with them (a name that is not a series of ``processors/_names.py``, a label
the metric does not have, an unknown PromQL function); ``render(expr, values)`` substitutes
the template variables as Grafana does before it sends a query.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from graphflow.processors import PrometheusProcessor
from graphflow.processors import _names as names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
PROVISIONING = COMPOSE_DIR / "grafana" / "provisioning"
DASHBOARDS = ROOT / "dashboards"

#: Grafana's built-in variables the dashboards may use, and the value the tests give them.
BUILTIN_VARIABLES = {"__rate_interval": "1m", "__interval": "1m"}


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


# --- PromQL, as far as these checks need it -------------------------------------------------------

PROMQL_FUNCTIONS = frozenset(
    [
        "abs",
        "absent",
        "absent_over_time",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atanh",
        "avg_over_time",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "cos",
        "cosh",
        "count_over_time",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "deg",
        "delta",
        "deriv",
        "double_exponential_smoothing",
        "exp",
        "floor",
        "histogram_avg",
        "histogram_count",
        "histogram_fraction",
        "histogram_quantile",
        "histogram_stddev",
        "histogram_stdvar",
        "histogram_sum",
        "holt_winters",
        "hour",
        "idelta",
        "increase",
        "irate",
        "label_join",
        "label_replace",
        "last_over_time",
        "ln",
        "log10",
        "log2",
        "mad_over_time",
        "max_over_time",
        "min_over_time",
        "minute",
        "month",
        "pi",
        "predict_linear",
        "present_over_time",
        "quantile_over_time",
        "rad",
        "rate",
        "resets",
        "round",
        "scalar",
        "sgn",
        "sin",
        "sinh",
        "sort",
        "sort_by_label",
        "sort_by_label_desc",
        "sort_desc",
        "sqrt",
        "stddev_over_time",
        "stdvar_over_time",
        "sum_over_time",
        "tan",
        "tanh",
        "time",
        "timestamp",
        "vector",
        "year",
    ]
)
PROMQL_AGGREGATIONS = frozenset(
    [
        "avg",
        "bottomk",
        "count",
        "count_values",
        "group",
        "limit_ratio",
        "limitk",
        "max",
        "min",
        "quantile",
        "stddev",
        "stdvar",
        "sum",
        "topk",
    ]
)
PROMQL_KEYWORDS = frozenset(["and", "or", "unless", "bool", "offset", "atan2"])

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(r"(?P<metric>[a-zA-Z_:][\w:]*)?\s*\{(?P<matchers>[^{}]*)\}")
_MATCHER = re.compile(r'\s*(?P<label>[a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*,?')
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\((?P<labels>[^)]*)\)"
)
_IDENTIFIER = re.compile(r"(?<![\w$.])(?P<name>[a-zA-Z_:][\w:]*)(?P<call>\s*\()?")
VARIABLE = re.compile(r"\$\{(?P<braced>\w+)(?::[\w]+)?\}|\$(?P<plain>\w+)|\[\[(?P<old>\w+)\]\]")
LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.+),\s*(?P<label>\w+)\s*\)\s*$")


@functools.cache
def exposed_series() -> dict[str, tuple[str, str]]:
    """Every series name graphflow exposes -> ``(metric of _names.py, type)``.

    Types come from a real ``PrometheusProcessor`` registry, so a histogram gives its
    ``_bucket``/``_count``/``_sum`` series and a counter its ``_total`` one. ``_created`` series
    are left out on purpose: dashboards have no use for them.
    """
    registry = CollectorRegistry()
    PrometheusProcessor(registry)
    contract = set(names.METRIC_LABELS)
    found: dict[str, tuple[str, str]] = {}
    for family in registry.collect():
        if family.type == "histogram":
            series = [f"{family.name}{s}" for s in ("_bucket", "_count", "_sum")]
            metric = family.name
        elif family.type == "counter":
            series = [f"{family.name}_total"]
            metric = series[0]
        else:
            series = [family.name]
            metric = family.name
        assert metric in contract, f"the registry exposes {metric}, not in _names.METRIC_LABELS"
        found.update(dict.fromkeys(series, (metric, family.type)))
    assert {m for m, _ in found.values()} == contract, "a metric of _names.py is not registered"
    return found


def labels_of(series: str) -> set[str]:
    metric, kind = exposed_series()[series]
    labels = set(names.METRIC_LABELS[metric])
    if kind == "histogram" and series.endswith("_bucket"):
        labels.add("le")
    return labels


@dataclass
class QueryFacts:
    """What a PromQL expression refers to."""

    metrics: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    variables: set[str] = field(default_factory=set)


def analyse(expr: str) -> QueryFacts:
    """The metric names, labels and variables of ``expr``, and what is wrong with them."""
    facts = QueryFacts()
    for m in VARIABLE.finditer(expr):
        facts.variables.add(m.group("braced") or m.group("plain") or m.group("old"))
    for m in _SELECTOR.finditer(expr):
        rest = _MATCHER.sub("", m.group("matchers")).strip()
        if rest:
            facts.problems.append(f"cannot read the label matchers {{{m.group('matchers')}}}")
        metric = m.group("metric")
        used = {x.group("label") for x in _MATCHER.finditer(m.group("matchers"))}
        if metric in exposed_series():
            unknown = used - labels_of(metric)
            if unknown:
                facts.problems.append(f"{metric} has no label {sorted(unknown)}")
        elif metric is None:
            facts.problems.append(f"selector without a metric name: {m.group(0)}")
    # What is left once strings, selectors, ranges and groupings are gone: functions,
    # aggregations, keywords, numbers and metric names.
    bare = _STRING.sub('""', expr)
    grouped: set[str] = set()
    for m in _GROUPING.finditer(bare):
        grouped |= {label.strip() for label in m.group("labels").split(",") if label.strip()}
    bare = _GROUPING.sub(" ", bare)
    bare = re.sub(r"\{[^{}]*\}", " ", bare)
    bare = re.sub(r"\[[^\]]*\]", " ", bare)
    bare = re.sub(r"(?<![\w$])\d+(?:\.\d+)?(?:e[+-]?\d+)?", " ", bare)
    for m in _IDENTIFIER.finditer(bare):
        name = m.group("name")
        if m.group("call"):
            if name not in PROMQL_FUNCTIONS | PROMQL_AGGREGATIONS:
                facts.problems.append(f"unknown PromQL function {name}()")
        elif name in PROMQL_KEYWORDS | PROMQL_AGGREGATIONS:
            continue
        elif name in exposed_series():
            facts.metrics.add(name)
        else:
            facts.problems.append(f"{name!r} is not a metric of processors/_names.py")
    allowed = {label for metric in facts.metrics for label in labels_of(metric)}
    if grouped - allowed:
        facts.problems.append(f"grouping by labels no metric here has: {sorted(grouped - allowed)}")
    return facts


# --- the files ----------------------------------------------------------------------------------


def load_dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def load_datasources() -> list[dict[str, Any]]:
    """The data sources of ``compose/grafana/provisioning/datasources/*.yml``."""
    found: list[dict[str, Any]] = []
    for path in sorted((PROVISIONING / "datasources").glob("*.yml")):
        data = load_yaml(path)
        assert data.get("apiVersion") == 1, path
        found.extend(data["datasources"])
    return found


def datasource_ref(kind: str) -> dict[str, str]:
    [source] = [s for s in load_datasources() if s["type"] == kind]
    return {"type": kind, "uid": source["uid"]}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included (rows themselves too)."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel, target


def variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return list(dashboard.get("templating", {}).get("list", []))


def variable_query(variable: dict[str, Any]) -> str:
    query = variable["query"]
    return str(query["query"] if isinstance(query, dict) else query)


def every_query(dashboards: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    """``(dashboard file, where, expr)`` of every PromQL query of the dashboards."""
    for file, dashboard in dashboards.items():
        for panel, target in targets(dashboard):
            yield file, f"panel {panel['title']!r} {target['refId']}", target["expr"]
        for variable in variables(dashboard):
            match = LABEL_VALUES.match(variable_query(variable))
            assert match, f"{file}: variable {variable['name']}: not label_values(...)"
            yield file, f"variable {variable['name']!r}", match.group("selector")


def render(expr: str, values: dict[str, str]) -> str:
    """``expr`` with its ``$variables`` replaced, as Grafana sends it."""

    def one(m: re.Match[str]) -> str:
        return values[m.group("braced") or m.group("plain") or m.group("old")]

    return VARIABLE.sub(one, expr)
