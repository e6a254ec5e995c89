"""Where the catalog deliberately differs from offbit-reflow 0.2.9, one row per reference defect.

Rendered into docs/catalog.md ("Deviations from offbit-reflow") by ``_docs.py``;
every row names the tests that assert reflow's behaviour
(``tests/catalog/test_metadata.py`` checks that they exist).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEVIATIONS", "Deviation", "KEPT"]

_GOLDEN = "tests/catalog/test_golden.py::test_golden"


def golden(*cases: str) -> tuple[str, ...]:
    return tuple(f"{_GOLDEN}[{case}]" for case in cases)


@dataclass(frozen=True)
class Deviation:
    components: str
    reference: str
    reflow: str
    tests: tuple[str, ...]


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "tpl_regex_matcher",
        "Only literal substrings; any metacharacter (also the default `.*`) gives `matched: false` and an error.",
        "The full Python `re` syntax, with groups (`groups` port) and `flags`.",
        golden("regex_matcher/metachar", "regex_matcher/default_pattern")
        + ("tests/catalog/test_text.py::test_regex_full_python_syntax",),
    ),
    Deviation(
        "tpl_regex_matcher",
        "`index` of a global match counts UTF-8 bytes.",
        "`index` counts characters (Python string offsets).",
        golden("regex_matcher/non_ascii_index"),
    ),
    Deviation(
        "tpl_switch",
        "Without a field, case values are compared with the tagged message: `\"a\"` never matches the String a.",
        "Untagged comparison; a tagged `{type, data}` case value still matches (kind and data), so old graphs keep working.",
        golden("switch/untagged_value", "switch/integer_case2", "switch/tagged_value"),
    ),
    Deviation(
        "tpl_if_branch",
        "`equals` compares `condition_value` with the tagged message (5 never equals the Integer 5).",
        "Untagged comparison; a tagged operand still compares kind and data.",
        golden("if_branch/equals_untagged", "if_branch/equals_tagged"),
    ),
    Deviation(
        "tpl_if_branch",
        "`condition_field` / `field` is looked up in the tagged envelope, so the test is always false.",
        "The field is read from the data.",
        golden("if_branch/condition_field"),
    ),
    Deviation(
        "tpl_if_branch",
        "`is_empty` is false for `{}`.",
        "`{}` is empty, like `\"\"`, `[]` and null.",
        golden("if_branch/is_empty_object"),
    ),
    Deviation(
        "tpl_loop",
        "`completed` is sent only for an empty or non-Array collection, never after the items.",
        "`completed` true always follows the last item.",
        golden("loop/items"),
    ),
    Deviation(
        "tpl_json_parser, tpl_split, tpl_reduce, tpl_regex_matcher, tpl_generator",
        "Results have kind Object whatever the value (a list, a number, null).",
        "Each result has its natural kind: Array for lists, Integer, Float, String, Boolean, Optional(null).",
        golden(
            "generator/range",
            "generator/default",
            "generator/index",
            "generator/linspace",
            "generator/grid",
            "generator/repeat_params",
            "json_parser/array",
            "json_parser/path",
            "json_parser/path_index_first",
            "json_parser/path_missing",
            "split/three",
            "reduce/first",
            "reduce/last",
            "regex_matcher/literal",
            "regex_matcher/literal_global",
        ),
    ),
    Deviation(
        "tpl_filter (and if_branch, rules)",
        "A non-number operand counts as 0 (`greater_than \"2\"` keeps everything); strings cannot be ordered.",
        "Numeric strings compare as numbers; two non-numeric strings compare alphabetically; other pairs never match.",
        golden("filter/greater_than_string_value") + ("tests/catalog/test_flow.py::test_filter_orders_strings",),
    ),
    Deviation(
        "tpl_filter, tpl_switch, tpl_if_branch",
        "`equals` tells 2 from 2.0.",
        "JSON numbers compare by value (2 equals 2.0); Booleans only equal Booleans.",
        golden("filter/equals_mixed"),
    ),
    Deviation(
        "tpl_filter",
        "`contains` only looks inside strings.",
        "`contains` also finds list elements and object keys.",
        golden("filter/contains"),
    ),
    Deviation(
        "tpl_filter",
        "Anything but an Array goes to `error`.",
        "A single packet is tested whole and sent to `output` or `rejected`, and a Flow passes, so per-packet streams can be filtered.",
        golden("filter/object_input") + ("tests/catalog/test_flow.py::test_filter_streams_single_packets",),
    ),
    Deviation(
        "tpl_filter, tpl_switch, tpl_if_branch, tpl_map, tpl_reduce",
        "Field names are flat keys (`a.b` finds nothing).",
        "An exact key first, else a path: `a.b`, `items[0].name`; an empty field is the value itself.",
        golden("filter/nested_field") + ("tests/catalog/test_flow.py::test_nested_field_paths",),
    ),
    Deviation(
        "every component",
        "Unknown config values are ignored silently (an unknown filter condition keeps everything; a missing `tpl_file_save` path is found at the first packet).",
        "Configs are validated against the component's JSON Schema when the network is built (`ConfigError`).",
        golden(
            "filter/unknown_condition",
            "date_time/unknown_operation",
            "file_save/no_path",
            "generator/unknown_type",
            "http_request/no_url",
            "http_request/unknown_method",
        ),
    ),
    Deviation(
        "every component",
        "Ports are not validated (a packet on any other port of `tpl_passthrough` becomes a Flow).",
        "Undeclared ports are refused when the network is built (`PortError`, with a \"did you mean\").",
        golden("passthrough/other_port"),
    ),
    Deviation(
        "tpl_map",
        "`to_number` turns numeric strings and every non-number into 0.0.",
        "Numeric strings are parsed; any other non-number sends the packet to `error`.",
        golden("map/to_number"),
    ),
    Deviation(
        "tpl_reduce",
        "Non-numbers are skipped silently by sum, product, min and max.",
        "A non-number sends the packet (or, in a stream, that item) to `error`.",
        golden("reduce/sum_non_number"),
    ),
    Deviation(
        "tpl_reduce",
        "An empty Array gives Float 0.0 for every operation.",
        "count 0 (Integer), concat \"\", product 1.0, sum 0.0; min, max, average, first and last null.",
        golden("reduce/empty_count", "reduce/empty_concat", "reduce/empty_product", "reduce/empty_min"),
    ),
    Deviation(
        "tpl_reduce",
        "`concat` drops everything that is not a String.",
        "Other values are concatenated as their JSON text; `separator` joins.",
        golden("reduce/concat_mixed"),
    ),
    Deviation(
        "tpl_reduce",
        "A single (non-Array) value goes to `error`.",
        "Single values are a stream: gathered in constant memory and reduced when a Flow arrives.",
        golden("reduce/non_array") + ("tests/catalog/test_flow.py::test_reduce_stream_until_flow",),
    ),
    Deviation(
        "tpl_gate (await-all components)",
        "One slot per port, last write wins: inputs 1, 2 and controls true, false give only `output` 2.",
        "Packets are paired in arrival order: 1 with true, 2 with false.",
        golden("gate/two_pairs"),
    ),
    Deviation(
        "tpl_data_transformer",
        "`to_json` and `${value}` render the tagged envelope (`{\"data\":3,\"type\":\"Integer\"}`).",
        "They render the data (`3`).",
        golden("data_transformer/to_json", "data_transformer/template_integer"),
    ),
    Deviation(
        "tpl_data_transformer",
        "A template only knows `${value}`; `${name}` stays as written.",
        "`${name}`, `${a.b}` fill fields of an Object, with optional format specs.",
        golden("data_transformer/template_fields") + ("tests/catalog/test_data.py::test_template_fills_fields",),
    ),
    Deviation(
        "tpl_json_parser, tpl_data_transformer",
        "Parse errors use serde's wording (`key must be a string at line 1 column 2`).",
        "Python's wording, same prefix and position (`JSON parse error: Expecting property name enclosed in double quotes at line 1 column 2`).",
        golden("json_parser/bad_json", "data_transformer/from_json_bad"),
    ),
    Deviation(
        "tpl_json_parser, tpl_regex_matcher",
        "A Flow goes to `error` (`Expected String...`).",
        "A Flow (end of stream) is forwarded (json_parser: `output`; regex: `output`, `groups`).",
        golden("json_parser/flow", "regex_matcher/flow")
        + (
            "tests/catalog/test_data.py::test_json_parser_forwards_flow",
            "tests/catalog/test_text.py::test_regex_forwards_flow",
        ),
    ),
    Deviation(
        "tpl_collect",
        "A Flow is collected like any packet; a partial batch is never sent.",
        "A Flow ends the stream: the partial batch is sent and the Flow is not collected.",
        golden("collect/flow_is_collected") + ("tests/catalog/test_flow.py::test_collect_flow_flushes_partial_batch",),
    ),
    Deviation(
        "tpl_file_save",
        "A Flow writes the text `\"flow\"` into the file.",
        "A Flow writes nothing and reports the file (`written: false`).",
        golden("file_save/flow") + ("tests/catalog/test_files.py::test_file_save_flow_writes_nothing",),
    ),
    Deviation(
        "tpl_file_load",
        "A String on `trigger` is ignored (`Missing 'path' in config`).",
        "A String on `trigger` names the file to read.",
        golden("file_load/trigger_string") + ("tests/catalog/test_files.py::test_file_load_path_from_trigger",),
    ),
    Deviation(
        "tpl_file_load",
        "A read error says what went wrong but not which file (`File read error: No such file or directory (os error 2)`).",
        "The same text followed by the path (`...: data/app.log`); also for tpl_file_lines and tpl_csv_read.",
        golden("file_load/missing", "file_load/directory")
        + ("tests/catalog/test_files.py::test_file_load_errors", "tests/catalog/test_files.py::test_csv_read_errors"),
    ),
    Deviation(
        "tpl_interval_trigger",
        "A fractional `interval` (0.1 seconds) fires once and stops.",
        "Fractions work in every unit.",
        golden("interval_trigger/fractional_seconds") + ("tests/catalog/test_time.py::test_interval_fractional_seconds",),
    ),
    Deviation(
        "tpl_math_sum, tpl_math_average, tpl_math_statistics",
        "Always 0.0 for Integer or Float Arrays (statistics: only `count` is right).",
        "Real results: an exact sum (`math.fsum`), the mean, median, population standard deviation, min and max; "
        "`field` reads a field of each element; the average of [] goes to `error`.",
        golden("math_sum/values", "math_average/values", "math_statistics/values")
        + ("tests/catalog/test_math.py::test_sum_average_of_real_arrays", "tests/catalog/test_math.py::test_statistics"),
    ),
    Deviation(
        "every math component",
        "Non-numbers count as 0 (`\"x\" + 1` gives 1.0, `[1, \"x\"]` sums to 0.0).",
        "Non-numbers (Booleans, null, `nan` and other text too) go to `error`, naming the port or element; numeric "
        "Strings still parse.",
        golden("math_add/non_number", "math_sum/non_number")
        + ("tests/catalog/test_math.py::test_non_numbers_go_to_error", "tests/catalog/test_math.py::test_array_errors"),
    ),
    Deviation(
        "tpl_math_add, subtract, multiply, divide, modulo, power, min_max",
        "A packet on `a` alone (`b` not connected) is dropped silently.",
        "An operand whose port is not connected comes from the config key of the same name (`b: 1`); without one the "
        "packet goes to `error`.",
        golden("math_add/only_a")
        + (
            "tests/catalog/test_math.py::test_an_unconnected_operand_comes_from_the_config",
            "tests/catalog/test_math.py::test_a_missing_operand_is_an_error_not_silence",
        ),
    ),
    Deviation(
        "tpl_math_clamp",
        "`min` above `max` aborts the whole process (a Rust panic in `f64::clamp`).",
        "An error packet: `min (5.0) is greater than max (1.0)`.",
        ("tests/catalog/test_math.py::test_clamp_with_min_above_max_is_an_error",),
    ),
    Deviation(
        "tpl_math_random",
        "Values cover only [min, min + 0.23 (max - min)): the clock's nanoseconds divided by 2^32.",
        "Uniform over [min, max); `seed` makes a node's sequence repeatable.",
        ("tests/catalog/test_math.py::test_random_is_uniform_over_the_range_and_seedable",),
    ),
    Deviation(
        "tpl_math_expression",
        "Only numbers, `+ - * / % ^ ( )` and unary minus; errors count positions with the spaces removed "
        "(`2 +* 3`: `Expected number at position 2`).",
        "A safe expression language (parsed with Python's `ast`, evaluated against a whitelist, never `eval`): "
        "comparisons, and/or/not, conditionals, functions, an Object's fields as variables. Errors say what and where, "
        "in the expression as written (`Syntax error: unexpected '*' at position 3`).",
        golden("math_expression/syntax_error", "math_expression/division_by_zero")
        + (
            "tests/catalog/test_math.py::test_expression_errors_name_the_position",
            "tests/catalog/test_expr.py::test_errors_carry_the_position",
            "tests/catalog/test_expr.py::test_unsafe_constructs_are_refused",
        ),
    ),
    Deviation(
        "tpl_generator",
        "An unknown `type` (also one given on `params`) sends nothing at all.",
        "Refused when the network is built (config schema); from `params`, the packet goes to `error`, as do bad "
        "parameters and more than `maxItems` items.",
        golden("generator/unknown_type") + ("tests/catalog/test_data.py::test_generator_errors",),
    ),
    Deviation(
        "tpl_data_operations",
        "Operations run on the tagged `{type, data}` envelope: filter, sort, map, group and aggregate never see the "
        "Array, and `data.length` is null.",
        "They run on the data.",
        golden(
            "data_operations/filter",
            "data_operations/transform_length",
            "data_operations/sort_desc",
            "data_operations/aggregate_sum",
            "data_operations/group",
            "data_operations/map",
        )
        + ("tests/catalog/test_data.py::test_data_operations_work_on_the_data",),
    ),
    Deviation(
        "tpl_data_operations",
        "Expressions are JavaScript, run by an embedded QuickJS; errors (even syntax errors) pass the data through.",
        "The safe expression language, which accepts the common JavaScript spellings (`&&`, `||`, `!`, `===`, "
        "`.length`, `Math.max`, `.toUpperCase()`, `.includes()`); any error goes to `error` with its position.",
        (
            "tests/catalog/test_data.py::test_data_operations_javascript_spellings",
            "tests/catalog/test_data.py::test_data_operations_errors",
        ),
    ),
    Deviation(
        "tpl_rules_engine",
        "A rule without `field` compares its value with the tagged message (`is 5` never matches the Integer 5).",
        "It compares with the data; rules may also be expressions (`{expression: ...}`).",
        golden("rules_engine/no_field_untagged")
        + (
            "tests/catalog/test_flow.py::test_rules_engine_rule_without_field_tests_the_untagged_data",
            "tests/catalog/test_flow.py::test_rules_engine_operators",
        ),
    ),
    Deviation(
        "tpl_http_request",
        "The tagged `data_in` packet is sent as a JSON body with every method, also GET, and a Flow as "
        "`{\"type\":\"Flow\"}`.",
        "The packet's data is the body only for POST, PUT and PATCH (JSON, text, form or raw Bytes: `bodyType`); GET, "
        "HEAD, DELETE and a Flow send no body unless `body` is configured.",
        golden("http_request/get_sends_no_body", "http_request/post_object")
        + ("tests/catalog/test_http.py::test_get_and_flow_send_no_body", "tests/catalog/test_http.py::test_post_bodies"),
    ),
    Deviation(
        "tpl_http_request",
        "A packet on `headers_in` sends a request too.",
        "`headers_in` sets headers for the requests that follow; only `data_in` sends.",
        golden("http_request/headers_in_alone")
        + ("tests/catalog/test_http.py::test_headers_in_applies_to_the_requests_that_follow",),
    ),
    Deviation(
        "tpl_http_request",
        "A failed request does not say why (`error sending request for url (...)`) and is never retried.",
        "The cause is named (refused, DNS, `timed out after 30000 ms`); `retries` with exponential backoff (and "
        "Retry-After); `failOnStatus` sends HTTP error statuses to `error_out`.",
        golden("http_request/connection_refused")
        + (
            "tests/catalog/test_http.py::test_connection_errors_go_to_error_out_after_the_retries",
            "tests/catalog/test_http.py::test_retries_with_backoff",
            "tests/catalog/test_http.py::test_timeouts",
        ),
    ),
    Deviation(
        "tpl_server_request, tpl_server_response",
        "No HTTP server: server_request emits the body, headers, method and url of its own config; server_response "
        "only builds {statusCode, contentType, body}.",
        "A real HTTP/1.1 server (trio sockets, h11; 127.0.0.1 unless `host` says otherwise) started by a packet on "
        "`start`: each request becomes a packet with an `id`, tpl_server_response answers it by that id, and an "
        "unanswered request gets 504 after `timeout`.",
        (
            "tests/catalog/test_http.py::test_server_serves_real_http_on_localhost",
            "tests/catalog/test_http.py::test_an_unanswered_request_gets_504_after_the_timeout",
            "tests/catalog/test_http.py::test_a_late_or_second_answer_goes_to_error",
        ),
    ),
    Deviation(
        "tpl_cron_trigger",
        "Never fires (`* * * * * *` sent nothing in 2.5 s): the expression is approximated by a fixed interval.",
        "Real cron schedules with croniter: 5 fields, 6 with seconds first, @hourly-style aliases, names (MON, JAN), a "
        "`timezone`; `done` after `maxExecutions`; an invalid expression goes to `error`.",
        golden("cron_trigger/every_second")
        + (
            "tests/catalog/test_time.py::test_cron_fires_on_second_boundaries_then_done",
            "tests/catalog/test_time.py::test_cron_schedules",
            "tests/catalog/test_time.py::test_cron_errors",
        ),
    ),
    Deviation(
        "tpl_stream_stats",
        "The new handle is sent only after the whole stream was read, so the next node cannot read while data flows; "
        "`contentType` is the handle's (null unless the producer named one).",
        "The handle goes out at once and frames are forwarded as they come; `contentType` and `sizeHint` come from "
        "the begin frame; `ended` says how the stream ended (end, error, closed).",
        golden("stream_stats/measure") + ("tests/catalog/test_streams.py::test_stats_sends_the_handle_first_and_measures",),
    ),
)

#: Reference behaviours kept on purpose (pinned by the golden tests), for the docs.
KEPT: tuple[str, ...] = (
    "`tpl_merge` and `tpl_collect` carry tagged `{type, data}` values (set `unwrap` for plain data).",
    "sum, product, min, max and average results are Floats, also for Integer input.",
    "`tpl_map` `to_string` renders each element as JSON text (strings get quotes); use `tpl_text_format` for plain text.",
    "`tpl_gate`: only `false` and numeric 0 close the gate (null, \"\" and Flow open it).",
    "`tpl_if_branch` rules on a missing field are false (also `is_not` and `empty`).",
    "`tpl_file_save` writes non-text messages as JSON indented by two spaces; every packet overwrites the file (unless `mode: append`).",
    "`tpl_map`, `tpl_split`: anything but an Array goes to `error` as `Expected Array on input port`.",
    "Math results are Floats, also for Integer input (2 + 3 gives 5.0), rounded to `precision` (10) decimals, also by "
    "`tpl_math_round`'s default mode (set `precision: 0` for whole numbers); errors keep the reference's texts "
    "(`Division by zero`, `Modulo by zero`, `Square root of negative number`).",
    "`tpl_math_modulo` and `%` in expressions keep the sign of the dividend (-7 % 3 is -1), as Rust and JavaScript do.",
    "`tpl_http_request`: every status (404 too) is a normal response on `response_out` unless `failOnStatus`; the "
    "body is parsed JSON when it parses, else text; a `body` in the config is sent with every method.",
    "`tpl_rules_engine`: IF with no groups matches, OR with none does not; a rule on a missing field is false.",
    "Stream components answer a packet that is not a stream with `No StreamHandle on stream port`, and "
    "`tpl_stream_to_bytes` reports an error frame as `Stream error: <text>`.",
)
