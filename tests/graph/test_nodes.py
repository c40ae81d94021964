"""FunctionNode and @node: names, inputs, outputs, renamed copies, flags and hashing."""

from __future__ import annotations

import os
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphflow import FunctionNode, Graph, GraphConfigError, GraphflowError, node


def add(a: int, b: int = 1) -> int:
    return a + b


# ------------------------------------------------------------------ making nodes
def test_node_decorator_without_parentheses_wraps_function_with_no_output() -> None:
    @node
    def log(message: str) -> None:
        print(message)

    assert isinstance(log, FunctionNode)
    assert log.name == "log"
    assert log.inputs == ("message",)
    assert log.outputs == ()


def test_node_decorator_with_parentheses_sets_output_and_name() -> None:
    @node(output_name="total", name="adder")
    def f(a: int, b: int) -> int:
        return a + b

    assert f.name == "adder"
    assert f.outputs == ("total",)
    assert f.inputs == ("a", "b")


def test_node_called_on_a_function_with_output_name() -> None:
    n = node(add, output_name="total")
    assert isinstance(n, FunctionNode)
    assert (n.name, n.inputs, n.outputs) == ("add", ("a", "b"), ("total",))
    assert n.func is add


def test_tuple_output_name_gives_several_outputs_in_order() -> None:
    @node(output_name=("total", "count"))
    def stats(xs: list[int]) -> tuple[int, int]:
        return sum(xs), len(xs)

    assert stats.outputs == ("total", "count")


def test_duplicate_output_names_are_rejected() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):
        node(add, output_name=("x", "x"))


def test_inputs_come_from_parameters_in_order() -> None:
    @node(output_name="r")
    def f(zeta: int, alpha: int, mid: int = 0) -> int:
        return zeta

    assert f.inputs == ("zeta", "alpha", "mid")


def test_parameter_with_default_is_an_optional_graph_input() -> None:
    n = node(add, output_name="total")
    spec = Graph([n]).inputs
    assert spec.required == ("a",)
    assert spec.optional == ("b",)


def test_rename_inputs_renames_parameters_to_graph_names() -> None:
    n = node(add, output_name="total", rename_inputs={"a": "left"})
    assert n.inputs == ("left", "b")
    spec = Graph([n]).inputs
    assert spec.required == ("left",)
    assert spec.optional == ("b",)


def test_rename_inputs_with_unknown_parameter_raises_with_did_you_mean() -> None:
    with pytest.raises(GraphflowError) as exc:
        node(add, output_name="total", rename_inputs={"aa": "left"})
    msg = str(exc.value)
    assert "aa" in msg
    assert "Did you mean 'a'" in msg
    assert "How to fix" in msg


# ------------------------------------------------------------------ renamed copies
def test_with_name_returns_a_renamed_copy_and_leaves_original() -> None:
    original = node(add, output_name="total")
    renamed = original.with_name("plus")
    assert renamed is not original
    assert renamed.name == "plus"
    assert original.name == "add"
    assert renamed.inputs == original.inputs
    assert renamed.outputs == original.outputs


@pytest.mark.parametrize("style", ["kwargs", "dict"])
def test_with_inputs_returns_copy_accepting_dict_or_kwargs(style: str) -> None:
    original = node(add, output_name="total")
    renamed = original.with_inputs(a="x") if style == "kwargs" else original.with_inputs({"a": "x"})
    assert renamed.inputs == ("x", "b")
    assert original.inputs == ("a", "b")


@pytest.mark.parametrize("style", ["kwargs", "dict"])
def test_with_outputs_returns_copy_accepting_dict_or_kwargs(style: str) -> None:
    original = node(add, output_name="total")
    renamed = (
        original.with_outputs(total="sum")
        if style == "kwargs"
        else original.with_outputs({"total": "sum"})
    )
    assert renamed.outputs == ("sum",)
    assert original.outputs == ("total",)


def test_renamed_input_still_feeds_the_original_parameter() -> None:
    from graphflow import SyncRunner

    renamed = node(add, output_name="total").with_inputs(a="x", b="y")
    result = SyncRunner().run(Graph([renamed]), {"x": 2, "y": 5})
    assert result["total"] == 7


def test_renaming_unknown_input_lists_current_names_and_applied_renames() -> None:
    n = node(add, output_name="total").with_inputs(a="left")
    with pytest.raises(GraphflowError) as exc:
        n.with_inputs(a="again")
    msg = str(exc.value)
    assert "'a'" in msg
    assert "left" in msg and "b" in msg  # current names
    assert "'a' -> 'left'" in msg  # rename already applied
    assert "How to fix" in msg


def test_renaming_unknown_output_lists_current_outputs_and_applied_renames() -> None:
    n = node(add, output_name="total").with_outputs(total="sum")
    with pytest.raises(GraphflowError) as exc:
        n.with_outputs(totl="x")
    msg = str(exc.value)
    assert "totl" in msg
    assert "sum" in msg
    assert "'total' -> 'sum'" in msg


def test_renaming_unknown_name_suggests_close_match() -> None:
    n = node(add, output_name="total")
    with pytest.raises(GraphflowError, match="Did you mean 'total'"):
        n.with_outputs(totl="x")


def test_swapping_two_input_names_is_allowed() -> None:
    from graphflow import SyncRunner

    @node(output_name="pair")
    def pair(a: int, b: int) -> tuple[int, int]:
        return a, b

    swapped = pair.with_inputs(a="b", b="a")
    assert swapped.inputs == ("b", "a")
    assert SyncRunner().run(Graph([swapped]), {"a": 1, "b": 2})["pair"] == (2, 1)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: node(add, output_name="t").with_inputs(a="b"), id="onto-existing"),
        pytest.param(lambda: node(add, output_name="t").with_inputs(a="x", b="x"), id="two-to-one"),
        pytest.param(lambda: node(add, output_name="t", rename_inputs={"a": "b"}), id="decorator"),
    ],
)
def test_renaming_inputs_to_a_name_the_node_already_has_raises(build: object) -> None:
    # Otherwise two parameters share one input name and the call fails at run time with
    # "missing 1 required positional argument".
    with pytest.raises(GraphConfigError, match="How to fix"):
        build()  # type: ignore[operator]


def test_renaming_an_output_onto_another_output_raises() -> None:
    n = node(add, output_name=("total", "count"))
    with pytest.raises(GraphConfigError, match="How to fix"):
        n.with_outputs(total="count")


# ------------------------------------------------------------------ invalid names
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: node(add, output_name="t", name="my-node"), id="node-dash"),
        pytest.param(lambda: node(add, output_name="t", name="class"), id="node-keyword"),
        pytest.param(lambda: node(add, output_name="t", name="9lives"), id="node-digit"),
        pytest.param(lambda: node(add, output_name="x/y"), id="output-slash"),
        pytest.param(lambda: node(add, output_name=("ok", "a.b")), id="output-dot"),
        pytest.param(lambda: node(add, output_name="class"), id="output-keyword"),
        pytest.param(lambda: node(add, output_name="t", rename_inputs={"a": "a.b"}), id="in-dot"),
        pytest.param(lambda: node(add, output_name="t").with_inputs(a="a.b"), id="with-in"),
        pytest.param(lambda: node(add, output_name="t").with_outputs(t="x/y"), id="with-out"),
        pytest.param(lambda: node(add, output_name="t").with_name("my-node"), id="with-name"),
        pytest.param(lambda: node(add, output_name="t").with_inputs(a="class"), id="in-keyword"),
    ],
)
def test_non_identifier_names_raise_graph_config_error(build: object) -> None:
    with pytest.raises(GraphConfigError) as exc:
        build()  # type: ignore[operator]
    assert "How to fix" in str(exc.value)


def test_lambda_needs_an_explicit_name_and_the_error_says_so() -> None:
    assert node(lambda x: x + 1, output_name="y", name="inc").name == "inc"
    with pytest.raises(GraphConfigError) as exc:
        node(lambda x: x + 1, output_name="y")
    msg = str(exc.value)
    assert "<lambda>" in msg
    assert "name=" in msg  # the fix is to pass name=..., not to rename the function


def test_output_name_of_wrong_type_raises() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):
        node(add, output_name=42)  # type: ignore[call-overload]


# ------------------------------------------------------------------ bad functions
def _var_positional(*args: int) -> int:
    return 0


def _var_keyword(**kwargs: int) -> int:
    return 0


def _positional_only(a: int, /) -> int:
    return a


@pytest.mark.parametrize("func", [_var_positional, _var_keyword, _positional_only])
def test_parameters_that_cannot_be_passed_by_name_raise(func: object) -> None:
    with pytest.raises(GraphConfigError) as exc:
        node(func, output_name="r")  # type: ignore[call-overload]
    msg = str(exc.value)
    assert func.__name__ in msg  # type: ignore[attr-defined]
    assert "How to fix" in msg


def test_non_callable_raises() -> None:
    with pytest.raises(GraphConfigError, match="How to fix"):
        node(42, output_name="r")  # type: ignore[call-overload]


def test_wrapping_a_node_again_raises() -> None:
    n = node(add, output_name="total")
    with pytest.raises(GraphConfigError, match="How to fix"):
        node(n, output_name="again")


# ------------------------------------------------------------------ flags and calling
def test_sync_function_flags() -> None:
    n = node(add, output_name="t")
    assert (n.is_async, n.is_generator) == (False, False)


def test_async_function_flags() -> None:
    @node(output_name="t")
    async def f(a: int) -> int:
        return a

    assert (f.is_async, f.is_generator) == (True, False)


def test_generator_flags() -> None:
    @node(output_name="t")
    def f(a: int):  # type: ignore[no-untyped-def]
        yield a

    assert (f.is_async, f.is_generator) == (False, True)


def test_async_generator_flags() -> None:
    @node(output_name="t")
    async def f(a: int):  # type: ignore[no-untyped-def]
        yield a

    assert (f.is_async, f.is_generator) == (True, True)


def test_function_node_is_callable_like_the_function() -> None:
    n = node(add, output_name="total")
    assert n(2, 3) == 5
    assert n(a=4) == 5
    assert n.__name__ == "add"


def test_cache_flag_defaults_off_and_can_be_set() -> None:
    assert node(add, output_name="t").cache is False
    assert node(add, output_name="t", cache=True).cache is True


# ------------------------------------------------------------------ definition_hash
def test_definition_hash_is_a_stable_hex_string() -> None:
    n = node(add, output_name="total")
    h = n.definition_hash
    assert isinstance(h, str) and h
    assert set(h) <= set(string.hexdigits)
    assert n.definition_hash == h
    assert node(add, output_name="other").definition_hash == h  # same source


def test_definition_hash_differs_for_different_code() -> None:
    def sub(a: int, b: int = 1) -> int:
        return a - b

    assert node(add, output_name="t").definition_hash != node(sub, output_name="t").definition_hash


_MODULE = """
from graphflow import node

@node(output_name="y")
def step(x):
    return x {op} 1
"""

_PRINT_HASH = "import {mod}; print({mod}.step.definition_hash)"


def _hash_in_subprocess(tmp_path: Path, module: str, seed: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}/work/main", "PYTHONHASHSEED": seed}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the module is rewritten within one mtime second
    out = subprocess.run(
        [sys.executable, "-c", _PRINT_HASH.format(mod=module)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    return out.stdout.strip()


def test_definition_hash_is_equal_across_processes_and_changes_with_source(
    tmp_path: Path,
) -> None:
    (tmp_path / "gf_hash_mod.py").write_text(textwrap.dedent(_MODULE.format(op="+")))
    first = _hash_in_subprocess(tmp_path, "gf_hash_mod", "1")
    second = _hash_in_subprocess(tmp_path, "gf_hash_mod", "2")
    assert first and first == second

    (tmp_path / "gf_hash_mod.py").write_text(textwrap.dedent(_MODULE.format(op="*")))
    changed = _hash_in_subprocess(tmp_path, "gf_hash_mod", "1")
    assert changed != first
