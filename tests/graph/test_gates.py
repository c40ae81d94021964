"""Gates (@route, @ifelse) and the END sentinel, as built objects."""

from __future__ import annotations

import copy
import pickle

import pytest

from graphflow import (
    END,
    GraphConfigError,
    GraphflowError,
    IfElseNode,
    RouteError,
    RouteNode,
    ifelse,
    node,
    route,
)


@node(output_name="summary")
def summarize(text: str) -> str:
    return text[:10]


# ------------------------------------------------------------------ @route targets
def test_route_accepts_str_node_objects_and_end_as_targets() -> None:
    @route(targets=["retry", summarize, END])
    def decide(score: float) -> str:
        return "retry"

    assert isinstance(decide, RouteNode)
    assert decide.targets == ("retry", "summarize", END)


def test_route_string_end_is_the_end_sentinel() -> None:
    @route(targets=["a", "END"])
    def decide(x: int) -> str:
        return "a"

    assert decide.targets == ("a", END)


def test_route_fallback_is_added_to_targets() -> None:
    @route(targets=["a", "b"], fallback="c")
    def decide(x: int) -> str | None:
        return None

    assert decide.fallback == "c"
    assert decide.targets == ("a", "b", "c")


def test_route_fallback_already_in_targets_is_not_duplicated() -> None:
    @route(targets=["a", "b"], fallback="a")
    def decide(x: int) -> str | None:
        return None

    assert decide.targets == ("a", "b")


def test_route_with_empty_targets_raises() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):

        @route(targets=[])
        def decide(x: int) -> str:
            return "a"


@pytest.mark.parametrize("targets", ["a", summarize, None, 3])
def test_route_targets_not_a_list_raise(targets: object) -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):

        @route(targets=targets)  # type: ignore[arg-type]
        def decide(x: int) -> str:
            return "a"


def test_route_target_of_wrong_type_raises() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):

        @route(targets=["a", 3])  # type: ignore[list-item]
        def decide(x: int) -> str:
            return "a"


def test_route_target_that_is_not_an_identifier_raises() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):

        @route(targets=["my-node"])
        def decide(x: int) -> str:
            return "my-node"


def test_route_inputs_come_from_parameters() -> None:
    @route(targets=["a", END], rename_inputs={"score": "quality"})
    def decide(score: float, threshold: float = 0.5) -> str:
        return "a"

    assert decide.inputs == ("quality", "threshold")


# ------------------------------------------------------------------ @ifelse
def test_ifelse_has_both_targets() -> None:
    @ifelse(when_true="publish", when_false=END)
    def approved(review: str) -> bool:
        return review == "ok"

    assert isinstance(approved, IfElseNode)
    assert approved.when_true == "publish"
    assert approved.when_false is END
    assert approved.targets == ("publish", END)


def test_ifelse_accepts_node_objects() -> None:
    @ifelse(when_true=summarize, when_false="skip")
    def check(text: str) -> bool:
        return True

    assert check.targets == ("summarize", "skip")


def test_ifelse_decides_by_bool_and_rejects_other_values() -> None:
    @ifelse(when_true="a", when_false="b")
    def check(x: int) -> bool:
        return x > 0

    assert check.decide(True) == "a"
    assert check.decide(False) == "b"
    with pytest.raises(RouteError, match="How to fix"):
        check.decide("a")


# ------------------------------------------------------------------ gates produce no data
def test_gates_have_no_outputs() -> None:
    @route(targets=["a", END])
    def r(x: int) -> str:
        return "a"

    @ifelse(when_true="a", when_false="b")
    def i(x: int) -> bool:
        return True

    assert r.outputs == ()
    assert i.outputs == ()


def test_with_outputs_on_a_gate_raises_with_fix_hint() -> None:
    @route(targets=["a", END])
    def r(x: int) -> str:
        return "a"

    with pytest.raises(GraphflowError) as exc:
        r.with_outputs(x="y")
    assert "How to fix" in str(exc.value)


def test_gate_with_name_and_with_inputs_return_copies() -> None:
    @route(targets=["a", END])
    def r(x: int) -> str:
        return "a"

    renamed = r.with_name("r2").with_inputs(x="y")
    assert (renamed.name, renamed.inputs, renamed.targets) == ("r2", ("y",), ("a", END))
    assert (r.name, r.inputs) == ("r", ("x",))


@pytest.mark.parametrize("kind", ["route", "ifelse"])
def test_generator_gate_raises(kind: str) -> None:
    def gen(x: int):  # type: ignore[no-untyped-def]
        yield "a"

    deco = route(targets=["a"]) if kind == "route" else ifelse(when_true="a", when_false="b")
    with pytest.raises(GraphConfigError, match="How to fix"):
        deco(gen)


def test_async_gate_is_flagged_async() -> None:
    @route(targets=["a", END])
    async def r(x: int) -> str:
        return "a"

    assert r.is_async is True


# ------------------------------------------------------------------ RouteNode.decide
@pytest.fixture
def chooser() -> RouteNode:
    @route(targets=["summarize", "translate", END])
    def choose(text: str) -> str:
        return "summarize"

    return choose


def test_decide_returns_the_chosen_target(chooser: RouteNode) -> None:
    assert chooser.decide("translate") == "translate"
    assert chooser.decide(summarize) == "summarize"
    assert chooser.decide(END) is END
    assert chooser.decide("END") is END


def test_decide_none_without_fallback_ends_the_path(chooser: RouteNode) -> None:
    assert chooser.decide(None) is END


def test_decide_none_with_fallback_picks_fallback() -> None:
    @route(targets=["a"], fallback="b")
    def r(x: int) -> str | None:
        return None

    assert r.decide(None) == "b"


def test_decide_value_outside_targets_raises_route_error_with_did_you_mean(
    chooser: RouteNode,
) -> None:
    with pytest.raises(RouteError) as exc:
        chooser.decide("sumarize")
    msg = str(exc.value)
    assert isinstance(exc.value, GraphflowError)
    assert "choose" in msg and "'sumarize'" in msg
    assert "Did you mean 'summarize'" in msg
    assert "How to fix" in msg


def test_decide_non_string_outside_targets_raises_route_error(chooser: RouteNode) -> None:
    with pytest.raises(RouteError, match="How to fix"):
        chooser.decide(42)


# ------------------------------------------------------------------ END
def test_end_repr_and_str() -> None:
    assert repr(END) == "END"
    assert str(END) == "END"


def test_end_pickles_and_copies_to_itself() -> None:
    assert pickle.loads(pickle.dumps(END)) is END
    assert copy.copy(END) is END
    assert copy.deepcopy(END) is END
