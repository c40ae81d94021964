"""Every build-time misuse of Graph raises GraphConfigError that says how to fix it."""

from __future__ import annotations

import typing

import pytest

from graphflow import (
    END,
    Graph,
    GraphConfigError,
    GraphflowError,
    IncompatibleRunnerError,
    InterruptNode,
    SyncRunner,
    ifelse,
    node,
    route,
)


def _raises_config(build: object) -> str:
    """Run ``build`` and return the message of the GraphConfigError it must raise."""
    with pytest.raises(GraphConfigError) as exc:
        build()  # type: ignore[operator]
    assert isinstance(exc.value, GraphflowError)
    assert isinstance(exc.value, ValueError)
    msg = str(exc.value)
    assert "How to fix" in msg, msg
    return msg


@node(output_name="summary")
def summarize(text: str) -> str:
    return text


@node(output_name="summary")
def shorten(text: str) -> str:
    return text[:3]


@node(output_name="draft")
def write(topic: str) -> str:
    return topic


def _review_graph() -> Graph:
    return Graph([write, InterruptNode("approve", "draft", "decision")], name="review")


# ------------------------------------------------------------------ node list
def test_duplicate_node_names_raise() -> None:
    msg = _raises_config(lambda: Graph([summarize, shorten.with_name("summarize")]))
    assert "summarize" in msg


def test_plain_function_instead_of_node_raises_suggesting_node_decorator() -> None:
    def plain(text: str) -> str:
        return text

    msg = _raises_config(lambda: Graph([summarize, plain]))  # type: ignore[list-item]
    assert "plain" in msg and "@node" in msg


def test_non_callable_object_in_node_list_raises() -> None:
    msg = _raises_config(lambda: Graph([summarize, 42]))  # type: ignore[list-item]
    assert "42" in msg and "int" in msg


def test_single_node_instead_of_list_raises() -> None:
    msg = _raises_config(lambda: Graph(summarize))  # type: ignore[arg-type]
    assert "list" in msg


@pytest.mark.parametrize("nodes", [None, 42], ids=["none", "int"])
def test_non_iterable_instead_of_node_list_raises(nodes: object) -> None:
    msg = _raises_config(lambda: Graph(nodes))  # type: ignore[arg-type]
    assert "list" in msg


@pytest.mark.parametrize("name", ["", 42, ["g"]], ids=["empty", "int", "list"])
def test_graph_name_that_is_not_a_non_empty_str_raises(name: object) -> None:
    _raises_config(lambda: Graph([summarize], name=name))  # type: ignore[arg-type]


# ------------------------------------------------------------------ gate targets
def test_gate_target_that_is_not_a_node_raises_with_did_you_mean() -> None:
    @route(targets=["sumarize", END])
    def choose(text: str) -> str:
        return "sumarize"

    msg = _raises_config(lambda: Graph([choose, summarize]))
    assert "choose" in msg and "'sumarize'" in msg
    assert "Did you mean 'summarize'" in msg


def test_ifelse_target_that_is_not_a_node_raises() -> None:
    @ifelse(when_true="publish", when_false=END)
    def ok(summary: str) -> bool:
        return True

    msg = _raises_config(lambda: Graph([summarize, ok]))
    assert "publish" in msg


def test_route_fallback_that_is_not_a_node_raises() -> None:
    @route(targets=["summarize"], fallback="sumary")
    def choose(text: str) -> str | None:
        return None

    msg = _raises_config(lambda: Graph([choose, summarize]))
    assert "sumary" in msg


# ------------------------------------------------------------------ producers of one name
def test_two_unordered_producers_of_one_name_raise() -> None:
    msg = _raises_config(lambda: Graph([summarize, shorten]))
    assert "summarize" in msg and "shorten" in msg and "'summary'" in msg


def test_two_producers_on_exclusive_branches_of_one_gate_are_allowed() -> None:
    @ifelse(when_true="summarize", when_false="shorten")
    def long_text(text: str) -> bool:
        return len(text) > 10

    g = Graph([long_text, summarize, shorten])
    assert g.outputs == ("summary",)


def test_two_producers_on_exclusive_route_branches_are_allowed() -> None:
    @route(targets=["summarize", "shorten", END])
    def pick(text: str) -> str:
        return "summarize"

    assert Graph([pick, summarize, shorten]).has_gates


def test_two_producers_ordered_by_a_dependency_are_allowed() -> None:
    @node(output_name=("answer", "notes"))
    def first(question: str) -> tuple[str, str]:
        return question, "n"

    @node(output_name="answer")
    def refine(notes: str) -> str:
        return notes

    @node(output_name="final")
    def use(answer: str) -> str:
        return answer

    g = Graph([first, refine, use])
    assert g.has_cycles is False


def test_producers_on_the_same_branch_of_a_gate_still_conflict() -> None:
    @ifelse(when_true="summarize", when_false=END)
    def gate(text: str) -> bool:
        return True

    @node(output_name="summary")
    def other(text: str) -> str:
        return text

    _raises_config(lambda: Graph([gate, summarize, other]))


# ------------------------------------------------------------------ map_over
def test_map_over_graph_with_interrupts_raises() -> None:
    gn = _review_graph().as_node()
    msg = _raises_config(lambda: gn.map_over("topic"))
    assert "interrupts" in msg
    assert "map runs the graph multiple times" in msg


def test_map_over_nested_interrupt_raises() -> None:
    outer = Graph([_review_graph().as_node()], name="outer")
    gn = outer.as_node()
    msg = _raises_config(lambda: gn.map_over("topic"))
    assert "map runs the graph multiple times" in msg


def test_map_over_unknown_param_raises_with_did_you_mean() -> None:
    gn = Graph([summarize], name="inner").as_node()
    msg = _raises_config(lambda: gn.map_over("txt"))
    assert "'txt'" in msg
    assert "Did you mean 'text'" in msg


def test_map_over_without_params_raises() -> None:
    gn = Graph([summarize], name="inner").as_node()
    _raises_config(lambda: gn.map_over())


def test_map_over_bad_mode_raises() -> None:
    gn = Graph([summarize], name="inner").as_node()
    msg = _raises_config(lambda: gn.map_over("text", mode="cartesian"))  # type: ignore[arg-type]
    assert "cartesian" in msg and "zip" in msg and "product" in msg


def test_map_over_non_str_param_raises() -> None:
    gn = Graph([summarize], name="inner").as_node()
    msg = _raises_config(lambda: gn.map_over(["text"]))  # type: ignore[arg-type]
    assert "list" in msg


# ------------------------------------------------------------------ as_node
def test_as_node_on_unnamed_graph_without_name_raises_value_error() -> None:
    g = Graph([summarize])
    with pytest.raises(ValueError) as exc:
        g.as_node()
    assert "How to fix" in str(exc.value)


def test_as_node_with_a_non_identifier_name_raises() -> None:
    _raises_config(lambda: Graph([summarize]).as_node(name="my-graph"))


def test_as_node_with_object_that_is_not_a_runner_raises() -> None:
    msg = _raises_config(lambda: Graph([summarize], name="inner").as_node(runner=object()))
    assert "inner" in msg


def test_as_node_with_sync_runner_on_async_graph_raises_at_build_time() -> None:
    @node(output_name="page")
    async def fetch(url: str) -> str:
        return url

    g = Graph([fetch], name="crawler")
    with pytest.raises(IncompatibleRunnerError) as exc:
        g.as_node(runner=SyncRunner())
    msg = str(exc.value)
    assert "async" in msg and "SyncRunner" in msg
    assert "How to fix" in msg


def test_as_node_with_sync_runner_on_graph_with_interrupts_raises() -> None:
    with pytest.raises(IncompatibleRunnerError, match="interrupts"):
        _review_graph().as_node(runner=SyncRunner())


# ------------------------------------------------------------------ strict_types
class Animal:
    pass


class Dog(Animal):
    pass


def _typed_pair(out_t: object, in_t: object) -> Graph:
    """A producer ``make`` -> ``value`` -> consumer ``take``, annotated as given."""

    def make(seed: int):  # type: ignore[no-untyped-def]
        return seed

    def take(value):  # type: ignore[no-untyped-def]
        return value

    make.__annotations__ = {"return": out_t} if out_t is not None else {}
    take.__annotations__ = {"value": in_t} if in_t is not None else {}
    producer = node(make, output_name="value")
    consumer = node(take, output_name="result")
    return Graph([producer, consumer], strict_types=True)


@pytest.mark.parametrize(
    ("out_t", "in_t"),
    [
        pytest.param(int, int, id="same"),
        pytest.param(Dog, Animal, id="subclass-to-base"),
        pytest.param(int, int | str, id="member-of-union"),
        pytest.param(int, int | None, id="into-optional"),
        pytest.param(int | None, int | None, id="optional-to-optional"),
        pytest.param(int | None, int | str | None, id="optional-into-wider-union"),
        pytest.param(typing.Optional[int], int | None, id="typing-optional"),  # noqa: UP045
        pytest.param(int, typing.Union[int, str], id="typing-union"),  # noqa: UP007
        pytest.param(list[int], list[int], id="generic-same"),
        pytest.param(list[int], list, id="generic-to-bare"),
        pytest.param(None, int, id="unannotated-output"),
        pytest.param(str, None, id="unannotated-input"),
    ],
)
def test_strict_types_accepts_compatible_connections(out_t: object, in_t: object) -> None:
    assert _typed_pair(out_t, in_t).strict_types is True


@pytest.mark.parametrize(
    ("out_t", "in_t"),
    [
        pytest.param(int, str, id="int-to-str"),
        pytest.param(Animal, Dog, id="base-to-subclass"),
        pytest.param(int | None, int, id="optional-into-plain"),
        pytest.param(float, int | str, id="not-a-union-member"),
        pytest.param(list[int], list[str], id="generic-args-differ"),
        pytest.param(list[int], dict[str, int], id="generic-origins-differ"),
    ],
)
def test_strict_types_rejects_mismatch_naming_both_ends(out_t: object, in_t: object) -> None:
    msg = _raises_config(lambda: _typed_pair(out_t, in_t))
    assert "make" in msg and "take" in msg and "'value'" in msg


def test_type_mismatch_is_not_checked_without_strict_types() -> None:
    @node(output_name="value")
    def make(seed: int) -> int:
        return seed

    @node(output_name="result")
    def take(value: str) -> str:
        return value

    assert Graph([make, take]).strict_types is False


def test_strict_types_checks_each_output_of_a_tuple_annotation() -> None:
    @node(output_name=("count", "label"))
    def split(seed: int) -> tuple[int, str]:
        return seed, str(seed)

    @node(output_name="ok")
    def good(count: int, label: str) -> bool:
        return True

    @node(output_name="bad")
    def wrong(label: int) -> bool:
        return True

    Graph([split, good], strict_types=True)
    msg = _raises_config(lambda: Graph([split, wrong], strict_types=True))
    assert "split" in msg and "wrong" in msg and "'label'" in msg


def test_strict_types_checks_renamed_connections() -> None:
    @node(output_name="value")
    def make(seed: int) -> int:
        return seed

    @node(output_name="result")
    def take(text: str) -> str:
        return text

    msg = _raises_config(lambda: Graph([make, take.with_inputs(text="value")], strict_types=True))
    assert "make" in msg and "take" in msg


def test_strict_types_checks_nested_graph_ends() -> None:
    @node(output_name="value")
    def make(seed: int) -> int:
        return seed

    @node(output_name="result")
    def take(value: str) -> str:
        return value

    inner = Graph([take], name="inner")
    msg = _raises_config(lambda: Graph([make, inner.as_node()], strict_types=True))
    assert "make" in msg and "inner" in msg
