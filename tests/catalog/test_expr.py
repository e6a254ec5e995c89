"""The catalog's safe expression language (catalog/_expr.py): values, JavaScript spellings, safety, positions."""

from __future__ import annotations

import pytest

from reflow_cli.catalog._expr import ExpressionError, compile_expression, evaluate, resolve_templates

DATA = {
    "item": {"name": "Ada", "age": 36, "tags": ["a", "b"], "nested": {"k": [10, 20]}, "active": True},
    "items": [1, 2, 3],
    "x": 4,
    "s": "Hello",
    "none": None,
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", -1),
        ("7.5 % 2", 1.5),
        ("2 ** 10", 1024),
        ("2 ^ 3 ^ 2", 512),
        ("-x + +x", 0),
        ("x > 3 and x < 5", True),
        ("x > 3 && x < 5", True),
        ("x < 3 || !(x == 4)", False),
        ("x === 4 && x !== 5", True),
        ("not x", False),
        ("1 < x <= 4", True),
        ("'a' in item.tags", True),
        ("'z' not in item.tags", True),
        ("'ell' in s", True),
        ("'name' in item", True),
        ("item.name", "Ada"),
        ("item['age'] + 1", 37),
        ("item.nested.k[-1]", 20),
        ("item.missing", None),
        ("item.missing.deeper", None),
        ("none.field", None),
        ("items[5]", None),
        ("items[1:]", [2, 3]),
        ("s[0:2]", "He"),
        ("items.length + s.length + item.length", 3 + 5 + 5),
        ("len(items)", 3),
        ("'yes' if item.active else 'no'", "yes"),
        ("true && null == None", True),
        ("[x, x * 2]", [4, 8]),
        ("{'a': x, 'b': [1]}", {"a": 4, "b": [1]}),
        ("s.lower() + s.toUpperCase()", "helloHELLO"),
        ("s.startsWith('He') and s.endswith('lo')", True),
        ("'  a '.trim()", "a"),
        ("'a,b'.split(',')", ["a", "b"]),
        ("item.tags.join('-')", "a-b"),
        ("'-'.join(item.tags)", "a-b"),
        ("item.tags.includes('b') and s.includes('ell')", True),
        ("items.indexOf(3)", 2),
        ("item.get('age')", 36),
        ("item.keys()", ["name", "age", "tags", "nested", "active"]),
        ("min(3, x) + max(items)", 6),
        ("Math.max(1, x) + Math.round(2.5)", 7),
        ("round(-2.5)", -3),
        ("round(2.675, 2)", 2.68),
        ("floor(-1.5) + ceil(1.2) + trunc(-1.7)", -1),
        ("abs(-2) + sqrt(16) + pow(2, 3)", 14.0),
        ("sum(items) + sum(1, 2)", 9),
        ("int('42') + float('0.5')", 42.5),
        ("str(1.5) + str(true) + str(null)", "1.5truenull"),
        ("bool([])", False),
        ("$x * 2", 8),
        ("pi > 3.14 and e < 2.72", True),
        ("'a\\'b'", "a'b"),
        ("'&&' + \"||\"", "&&||"),
    ],
)
def test_values(text: str, value: object) -> None:
    result = evaluate(text, DATA)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("2 +* 3", "Syntax error: unexpected '*'", 3),
        ("1 +", "Syntax error: unexpected end of expression", 3),
        ("(1", "Syntax error: '(' was never closed", 0),
        ("x ==", "Syntax error: unexpected end of expression", 4),
        ("", "empty expression", 0),
        ("y", "Unknown name 'y' (variables: item, items, none, s, x)", 0),
        ("$nope", "Unknown name '$nope' (variables: item, items, none, s, x)", 0),
        ("x / 0", "division by zero", 2),
        ("(x + 1) % 0", "modulo by zero", 8),
        ("s - 1", "cannot subtract String and Integer", 2),
        ("s < 1", "cannot compare String with Integer", 2),
        ("1 in x", "'in' needs a String, Array or Object on the right, not Integer", 2),
        ("sqrt(-1)", "sqrt(-1) is not a real number", 0),
        ("abs", "abs is a function: call it as abs(...)", 0),
        ("nope(1)", "unknown function nope()", 0),
        ("s.format(1)", "String has no method format() taking 1 argument(s)", 0),
        ("x.foo()", "Integer has no method foo()", 0),
        ("items['a']", "an index must be an Integer, not String", 6),
        ("9 ** 9 ** 9", "numeric overflow", 2),
        ("'ab' * 10 ** 7", "result too large (more than 1000000 items)", 5),
        ("(-8) ** 0.5", "result is not a real number", 5),
        ("1e308 * 10", "numeric overflow", 6),
    ],
)
def test_errors_carry_the_position(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, DATA)
    assert caught.value.message == message
    assert caught.value.position == position
    assert str(caught.value) == f"{message} at position {position}"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("__import__('os').system('true')", "names starting with '_' are not allowed"),
        ("x.__class__", "fields starting with '_'"),
        ("().__class__.__bases__", "fields starting with '_'"),
        ("[c for c in items]", "a comprehension is not allowed"),
        ("lambda: 1", "lambda is not allowed"),
        ("(y := 1)", "':=' is not allowed"),
        ("f'{x}'", "an f-string is not allowed"),
        ("{1, 2}", "a set is not allowed"),
        ("x | 1", "'|' is not allowed"),
        ("x is None", "'is' is not allowed"),
        ("print(*items)", "'*' unpacking is not allowed"),
        ("round(x, ndigits=1)", "keyword arguments are not allowed"),
        ("eval('1')", "unknown function eval()"),
        ("open('/etc/passwd')", "unknown function open()"),
        ("getattr(x, 'real')", "unknown function getattr()"),
        ("b'bytes'", "bytes literals are not allowed"),
    ],
)
def test_unsafe_constructs_are_refused(text: str, why: str) -> None:
    with pytest.raises(ExpressionError, match=why):
        evaluate(text, DATA)


def test_the_evaluator_never_runs_python_code() -> None:
    """No eval/exec; compile only as ast.parse uses it (to build a tree, never code)."""
    import ast
    import builtins

    real_compile = builtins.compile
    calls: list[int] = []

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("eval/exec must not be used")

    def tree_only(source: object, filename: object, mode: str, flags: int = 0, *args: object, **kwargs: object) -> object:
        calls.append(flags)
        assert flags & ast.PyCF_ONLY_AST, "compile() may only build an AST"
        return real_compile(source, filename, mode, flags, *args, **kwargs)  # type: ignore[call-overload]

    saved = builtins.eval, builtins.exec, builtins.compile
    builtins.eval, builtins.exec, builtins.compile = forbidden, forbidden, tree_only  # type: ignore[assignment]
    try:
        value = evaluate("Math.max(x, 2) * item.age", DATA)
    finally:
        builtins.eval, builtins.exec, builtins.compile = saved
    assert value == 144 and calls


def test_limits() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        compile_expression("1+" * 6000 + "1")
    with pytest.raises(ExpressionError, match="too large"):
        compile_expression("+".join(["x"] * 1500))
    with pytest.raises(ExpressionError, match="must be a String"):
        compile_expression(5)  # type: ignore[arg-type]


def test_a_compiled_expression_is_reusable() -> None:
    compiled = compile_expression("x * 2 + (y or 0)")
    assert [compiled.evaluate({"x": n, "y": None}) for n in range(3)] == [0, 2, 4]
    assert compiled.evaluate({"x": 1, "y": 5}) == 7
    assert repr(compiled) == "Expression('x * 2 + (y or 0)')"


def test_positions_count_characters_as_written() -> None:
    # JavaScript spellings are rewritten before parsing; positions still point into the original text
    with pytest.raises(ExpressionError) as caught:
        evaluate("x === 4 && 'é' - 1", DATA)
    assert caught.value.position == 15 and "x === 4 && 'é' - 1"[15] == "-"


def test_templates_are_resolved_before_evaluation() -> None:
    variables = {"input": {"data": {"type": "Object", "data": {"min": 3}}}, "label": "a'b"}
    text = "item > ${input.get('data').data.min}"
    assert resolve_templates(text, variables) == "item > 3"
    assert evaluate(resolve_templates(text, variables), {"item": 5}) is True
    assert resolve_templates("${[1, 2]} ${true} ${label}", variables) == "[1,2] true a'b"
    with pytest.raises(ExpressionError) as caught:
        resolve_templates("x > ${nope}", variables)
    assert caught.value.position == 6
    with pytest.raises(ExpressionError, match="unclosed"):
        resolve_templates("x > ${1", variables)


# -- limits that used to be bypassable ---------------------------------------------------------------


def _nested(depth: int, leaf: object = 1) -> object:
    """``leaf`` inside ``depth`` Arrays."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("('a' * 3000).replace('', 'b' * 3000)", {}),  # 9,006,000 characters
        ("('a' * 100000).replace('', 'b' * 100000)", {}),  # about 10 GB
        ("('a' * 500000).replace('', 'b')", {}),  # 1,000,001: an empty pattern matches len + 1 times
        ("('a' * 1000).replace('a', 'b' * 1001)", {}),
        ("('ß' * 600000).upper()", {}),  # ß is SS: 1,200,000
        ("('b' * 1000000).join(['a', 'a'])", {}),
        ("'-'.join(['a' * 1000000] * 1000000)", {}),
        ("'-'.join([['a' * 1000000]] * 1000000)", {}),  # each element rendered: refused at the second
        ("([['a' * 1000000]] * 1000000).join('')", {}),
        ("str(['a' * 1000000] * 1000000)", {}),  # a million references to one big String
        ("str([[1] * 1000000] * 1000000)", {}),
        ("s + s", {"s": "a" * 600000}),
    ],
)
def test_every_string_growing_operation_is_bounded(text: str, variables: dict) -> None:
    with pytest.raises(ExpressionError, match=r"^result too large \(more than 1000000 items\) at position \d+$"):
        evaluate(text, variables)


def test_results_up_to_the_limit_and_long_inputs_passed_through_are_allowed() -> None:
    assert len(evaluate("('a' * 499999).replace('', 'b')")) == 999999
    assert evaluate("'abc'.replace('', '-')") == "-a-b-c-"
    assert len(evaluate("('ß' * 400000).upper()")) == 800000
    long = "x" * 2_000_000  # data longer than the limit may still go through what does not grow it
    assert evaluate("s.upper().replace('X', 'y')", {"s": long}) == "y" * 2_000_000
    assert evaluate("s.lower().length", {"s": long}) == 2_000_000


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("x" + "[0]" * 500, "["),
        ("a." * 500 + "b", "."),
        ("-" * 150 + "1", "-"),
        ("1 ** " * 150 + "1", "1"),  # the operand 101 levels down
    ],
)
def test_deep_expressions_are_refused_with_the_position(text: str, at: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)
    assert caught.value.message == "expression nested too deeply (more than 100 levels)"
    assert caught.value.position is not None and text[caught.value.position] == at


def test_nesting_up_to_the_limit_works_and_chains_do_not_nest() -> None:
    assert evaluate("x" + "[0]" * 100, {"x": _nested(100)}) == 1
    assert evaluate("-" * 100 + "1") == 1
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_expression("x" + "[0]" * 101)
    assert evaluate("+".join(["1"] * 600)) == 600  # a chain of 600 terms is one level
    assert evaluate(" - ".join(["x"] * 400), {"x": 1}) == -398


def test_a_parser_recursion_error_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("-" * 4999 + "1")  # Python's own parser gives up before our check
    assert caught.value.message == "expression nested too deeply (more than 100 levels)"
    assert caught.value.position is None


@pytest.mark.parametrize(
    ("text", "variables", "message", "position"),
    [
        ("x == y", {"x": _nested(900), "y": _nested(900)}, "values nested too deeply to compare (more than 100 levels)", 2),
        ("x != y", {"x": _nested(900), "y": _nested(900)}, "values nested too deeply to compare (more than 100 levels)", 2),
        ("x in [y]", {"x": _nested(900), "y": _nested(900)}, "values nested too deeply to compare (more than 100 levels)", 2),
        ("x.includes(y)", {"x": [_nested(900)], "y": _nested(900)}, "values nested too deeply to compare (more than 100 levels)", 0),
        ("x.indexOf(y)", {"x": [_nested(900)], "y": _nested(900)}, "values nested too deeply to compare (more than 100 levels)", 0),
        ("str(x)", {"x": _nested(5000)}, "value nested too deeply to render (more than 100 levels)", 0),
        ("'-'.join(x)", {"x": [_nested(5000)]}, "value nested too deeply to render (more than 100 levels)", 0),
        ("str({'a': x})", {"x": _nested(100)}, "value nested too deeply to render (more than 100 levels)", 0),
    ],
)
def test_deep_data_is_an_error_with_the_position(text: str, variables: dict, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, variables)
    assert (caught.value.message, caught.value.position) == (message, position)


def test_data_nested_up_to_the_limit_compares_and_renders() -> None:
    deep = _nested(100)
    assert evaluate("x == y", {"x": deep, "y": _nested(100)}) is True
    assert evaluate("x == y", {"x": deep, "y": _nested(100, 2)}) is False
    assert evaluate("y in [1, x]", {"x": deep, "y": _nested(100)}) is True
    assert evaluate("str(x)", {"x": deep}) == "[" * 100 + "1" + "]" * 100
    assert evaluate("{'a': [1, {'b': true}]} == {'a': [1.0, {'b': true}]}") is True
    assert evaluate("{'a': [1, {'b': true}]} == {'a': [1, {'b': 1}]}") is False


def test_comparisons_have_a_work_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    from reflow_cli.catalog import _expr

    monkeypatch.setattr(_expr, "MAX_COMPARE_STEPS", 1000)
    assert evaluate("[1] * 999 == [1] * 999") is True
    with pytest.raises(ExpressionError, match=r"^values too large to compare \(more than 1000 elements\) at position 18$"):
        evaluate("[[1] * 100] * 100 == [[1] * 100] * 100")
    with pytest.raises(ExpressionError, match="values too large to compare"):  # one budget for all the elements
        evaluate("([[1] * 100] * 100).includes([1] * 99 + [2])")


def test_a_caller_short_of_stack_gets_an_expression_error() -> None:
    import sys

    compiled = compile_expression("-" * 100 + "1")
    headroom = 40  # fewer frames than the 100 levels need

    def at_depth(depth: int) -> object:
        return at_depth(depth - 1) if depth > 0 else compiled.evaluate()

    used = 0
    frame = sys._getframe()
    while frame is not None:
        used += 1
        frame = frame.f_back
    with pytest.raises(ExpressionError) as caught:
        at_depth(sys.getrecursionlimit() - used - headroom)
    assert "nested too deeply" in caught.value.message


@pytest.mark.parametrize(
    ("text", "variables", "start"),
    [
        ('int("' + "9" * 4000 + '")', {}, "'99999999999999999999999999"),
        ("float(s)", {"s": "x" * 100_000}, "'xxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ("sqrt(n)", {"n": -(10**5000)}, "sqrt(an Integer of about 5001 digits) is not a real number"),
        ("y", {f"v{i}": 1 for i in range(50)}, "Unknown name 'y' (variables: v0, v1, v10"),
        ("y", {"v" * 5000: 1}, "Unknown name 'y' (variables: vvvvvvvvv"),
    ],
)
def test_long_values_are_cut_in_error_messages(text: str, variables: dict, start: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(text, variables)
    assert caught.value.message.startswith(start)
    assert len(caught.value.message) < 250, caught.value.message


def test_integers_beyond_the_float_range_overflow() -> None:
    with pytest.raises(ExpressionError, match=r"^numeric overflow at position 9$"):
        evaluate("(2**64-1)**64")
    with pytest.raises(ExpressionError, match="numeric overflow"):
        evaluate("x * x", {"x": 2**600})
    assert evaluate("x * x", {"x": 2**500}) == 2**1000


def test_expression_errors_are_reflow_errors() -> None:
    from reflow_cli.errors import ReflowError

    assert issubclass(ExpressionError, ReflowError) and issubclass(ExpressionError, ValueError)


# -- the same limits through real components, with `error` connected -----------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("x" + "[0]" * 500, "tpl_math_expression: expression nested too deeply (more than 100 levels) at position 1195"),
        ("-" * 4999 + "1", "tpl_math_expression: expression nested too deeply (more than 100 levels)"),
        ("('a' * 3000).replace('', 'b' * 3000).length", "tpl_math_expression: result too large (more than 1000000 items) at position 0"),
        ("(2**64-1)**64 * 2", "tpl_math_expression: numeric overflow at position 9"),
        ('int("' + "9" * 4000 + '")', "tpl_math_expression: '" + "9" * 27 + "..." + "9" * 28 + "' is not a finite number at position 0"),
    ],
)
def test_math_expression_limits_go_to_error(expression: str, message: str) -> None:
    from tests.catalog._helpers import run_component

    result = run_component("tpl_math_expression", {"expression": expression}, {"input": [{"type": "Integer", "data": 1}]})
    assert result.failures == []
    assert result.data("error") == [message]


def test_math_expression_deep_data_goes_to_error() -> None:
    from tests.catalog._helpers import run_component

    deep = {"type": "Object", "data": {"a": _nested(300), "b": _nested(300)}}
    result = run_component("tpl_math_expression", {"expression": "len(str(a)) if a == b else 0"}, {"input": [deep]})
    assert result.failures == []
    assert result.data("error") == ["tpl_math_expression: values nested too deeply to compare (more than 100 levels) at position 17"]


@pytest.mark.parametrize(
    ("depth", "message"),
    [
        (150, "tpl_data_operations: operation 0 (filter): values nested too deeply to compare (more than 100 levels) at position 5"),
        (900, "tpl_data_operations: the data is nested too deeply to process"),
    ],
)
def test_data_operations_deep_data_goes_to_error(depth: int, message: str) -> None:
    from tests.catalog._helpers import run_component

    config = {"dataOperations": [{"operations": [{"type": "filter", "filterExpression": "item == item"}]}]}
    result = run_component("tpl_data_operations", config, {"data": [{"type": "Array", "data": [_nested(depth)]}]})
    assert result.failures == []
    assert result.data("error") == [message] and "output" not in result.outputs


def test_data_operations_string_growth_goes_to_error() -> None:
    from tests.catalog._helpers import run_component

    config = {"dataOperations": [{"operations": [{"type": "transform", "transformExpression": "data.replace('', data)"}]}]}
    result = run_component("tpl_data_operations", config, {"data": [{"type": "String", "data": "a" * 3000}]})
    assert result.failures == []
    assert result.data("error") == [
        "tpl_data_operations: operation 0 (transform): result too large (more than 1000000 items) at position 0"
    ]


def test_rules_engine_deep_data_goes_to_error() -> None:
    from tests.catalog._helpers import run_component

    config = {"rules": {"type": "IF", "groups": [{"connector": "AND", "rules": [{"expression": "a == b"}]}]}}
    data = {"type": "Object", "data": {"a": _nested(200), "b": _nested(200)}}
    result = run_component("tpl_rules_engine", config, {"data": [data]}, connect=["output", "matched", "unmatched", "error"])
    assert result.failures == []
    assert result.data("error") == ["tpl_rules_engine: values nested too deeply to compare (more than 100 levels) at position 2"]
