"""What a spec means: nodes, ports, capacities, configs and reserved keys, checked all at once.

Every check runs on the normalised spec and reports issues on normalised
paths; the loader locates them. Nothing stops at the first problem: a node
whose component is unknown is still a node (connections to it are not
"unknown node" errors), its ports are just not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..actor import ComponentSpec, PortSpec, suggest
from ._components import Resolved
from ._issues import Issue
from ._schema import describe_error

__all__ = ["check_configs", "check_meaning"]

def _names(ports: Iterable[PortSpec]) -> list[str]:
    return [port.name for port in ports]


def _port_hint(port: str, declared: tuple[PortSpec, ...], other: tuple[PortSpec, ...], direction: str) -> str:
    close = suggest(port, [p.name for p in declared if not p.is_pattern])
    if close:
        return f"did you mean {close!r}?"
    opposite = "outport" if direction == "inport" else "inport"
    if any(p.matches(port) for p in other):
        return f"{port!r} is an {opposite} of this node; connections go from an outport to an inport"
    names = _names(declared)
    return f"its {direction}s are: {', '.join(names)}" if names else f"it has no {direction}s"


def _connection_text(connection: dict[str, Any]) -> str:
    def end(e: dict[str, Any]) -> str:
        return f"{e['node']}.{e['port']}" + (f"[{e['index']}]" if "index" in e else "")

    return f"{end(connection['from'])} -> {end(connection['to'])}"


def check_meaning(
    spec: dict[str, Any],
    resolved: dict[str, Resolved] | None,
    broken: set[str],
) -> list[Issue]:
    """Unknown nodes and ports, capacities, duplicate connections, unconnected nodes, reserved keys.

    ``resolved`` maps node ids to their components (None: components are not
    checked, so neither are ports, W001 and W002).
    """
    issues: list[Issue] = []
    nodes: dict[str, Any] = spec["nodes"]
    known = nodes.keys() | broken

    def component_of(node_id: str) -> ComponentSpec | None:
        if resolved is None or node_id not in nodes:
            return None
        found = resolved.get(node_id)
        return None if found is None else found.spec

    def who(node_id: str) -> str:
        return f"node {node_id!r} ({nodes[node_id]['component']})"

    def unknown_node(node_id: str, path: tuple[Any, ...], what: str) -> None:
        close = suggest(node_id, nodes)
        hint = f"did you mean {close!r}?" if close else f"the nodes are: {', '.join(nodes) or '(none)'}"
        issues.append(Issue("E011", f"{what} names node {node_id!r}, which is not in `nodes`", path, hint=hint))

    inputs: dict[str, set[str]] = {node_id: set() for node_id in nodes}
    outputs: dict[str, set[str]] = {node_id: set() for node_id in nodes}

    # -- connections ------------------------------------------------------------------
    seen: dict[tuple[str, str, str, str], tuple[int, dict[str, Any]]] = {}
    capacities: dict[tuple[str, str], tuple[int, int]] = {}
    for i, connection in enumerate(spec["connections"]):
        text = _connection_text(connection)
        source, target = connection["from"], connection["to"]
        for role, end in (("from", source), ("to", target)):
            if end["node"] not in known:
                unknown_node(end["node"], ("connections", i, role, "node"), f"connection {text}")
        source_spec, target_spec = component_of(source["node"]), component_of(target["node"])
        if source_spec is not None and not source_spec.has_outport(source["port"]):
            issues.append(Issue(
                "E012",
                f"{who(source['node'])} has no outport {source['port']!r}",
                ("connections", i, "from", "port"),
                hint=_port_hint(source["port"], source_spec.outports, source_spec.inports, "outport"),
            ))
        if target_spec is not None and not target_spec.has_inport(target["port"]):
            issues.append(Issue(
                "E012",
                f"{who(target['node'])} has no inport {target['port']!r}",
                ("connections", i, "to", "port"),
                hint=_port_hint(target["port"], target_spec.inports, target_spec.outports, "inport"),
            ))
        if source["node"] in outputs:
            outputs[source["node"]].add(source["port"])
        if target["node"] in inputs:
            inputs[target["node"]].add(target["port"])
        key = (source["node"], source["port"], target["node"], target["port"])
        previous = seen.get(key)
        if previous is not None:
            first_index, first = previous
            same_capacity = first.get("capacity") == connection.get("capacity")
            if first == connection:
                issues.append(Issue("W004", f"connection {text} is listed twice; the repeat is ignored",
                                    ("connections", i), hint=f"remove it (it repeats connection #{first_index + 1})"))
            elif not same_capacity and {k: v for k, v in first.items() if k != "capacity"} == {
                k: v for k, v in connection.items() if k != "capacity"
            }:
                pass  # reported as a capacity conflict below
            else:
                issues.append(Issue(
                    "E022",
                    f"connection {text} is listed twice with different metadata or indexes",
                    ("connections", i),
                    hint=f"merge it with connection #{first_index + 1}: two ports have one connection",
                ))
        else:
            seen[key] = (i, connection)
        if "capacity" in connection:
            inport = (target["node"], target["port"])
            earlier = capacities.get(inport)
            if earlier is not None and earlier[0] != connection["capacity"]:
                issues.append(Issue(
                    "E021",
                    f"inport {target['node']}.{target['port']} gets capacity {connection['capacity']} here, "
                    f"but {earlier[0]} from connection #{earlier[1] + 1}",
                    ("connections", i, "capacity"),
                    hint="an inport has one queue: give every connection into it the same capacity",
                ))
            elif earlier is None:
                capacities[inport] = (connection["capacity"], i)

    # -- initial packets -------------------------------------------------------------
    for i, initial in enumerate(spec["initial"]):
        target = initial["to"]
        where = f"the initial packet for {target['node']}.{target['port']}"
        if target["node"] not in known:
            unknown_node(target["node"], ("initial", i, "to", "node"), where)
        inport = initial.get("inport")
        if inport is not None and inport not in spec["inports"]:
            close = suggest(inport, spec["inports"])
            issues.append(Issue(
                "E012",
                f"{where} is sent through graph inport {inport!r}, which the graph does not export",
                ("initial", i, "inport"),
                hint=f"did you mean {close!r}?" if close else "export it under `inports:`",
                kept=True,  # a Graph keeps such packets (the reference leaves them when an inport goes)
            ))
        target_spec = component_of(target["node"])
        if target_spec is not None and not target_spec.has_inport(target["port"]):
            issues.append(Issue(
                "E012",
                f"{who(target['node'])} has no inport {target['port']!r}",
                ("initial", i, "to", "port"),
                hint=_port_hint(target["port"], target_spec.inports, target_spec.outports, "inport"),
            ))
        if target["node"] in inputs:
            inputs[target["node"]].add(target["port"])

    # -- exported ports ----------------------------------------------------------------
    for kind, direction in (("inports", "inport"), ("outports", "outport")):
        for name, port in spec[kind].items():
            if port["node"] not in known:
                unknown_node(port["node"], (kind, name, "node"), f"exported {direction} {name!r}")
                continue
            component = component_of(port["node"])
            if component is not None:
                declared, other = (
                    (component.inports, component.outports) if direction == "inport" else (component.outports, component.inports)
                )
                if not any(p.matches(port["port"]) for p in declared):
                    issues.append(Issue(
                        "E016",
                        f"exported {direction} {name!r} is {port['node']}.{port['port']}, "
                        f"but {who(port['node'])} has no {direction} {port['port']!r}",
                        (kind, name, "port"),
                        hint=_port_hint(port["port"], declared, other, direction),
                    ))
            (inputs if direction == "inport" else outputs).setdefault(port["node"], set()).add(port["port"])

    # -- groups ------------------------------------------------------------------------
    for group_id, group in spec["groups"].items():
        for k, node_id in enumerate(group["nodes"]):
            if node_id not in known:
                unknown_node(node_id, ("groups", group_id, "nodes", k), f"group {group_id!r}")

    # -- per node: reserved keys, unconnected nodes --------------------------------------
    for node_id, node in nodes.items():
        if "retry" in node and node.get("on_error") != "retry":
            issues.append(Issue(
                "W003",
                "`retry` settings are used only with `on_error: retry`: they are ignored here",
                ("nodes", node_id, "retry"),
                key=True,
                hint="add `on_error: retry`, or remove `retry`",
            ))
        component = component_of(node_id)
        if component is None:
            continue
        if component.inports and not inputs[node_id]:
            names = ", ".join(_names(component.inports))
            first_port = next((p.name for p in component.inports if not p.is_pattern), None)
            issues.append(Issue(
                "W001",
                f"{who(node_id)} has no input: none of its inports ({names}) has a connection, an initial packet "
                "or a graph inport, so it never runs",
                ("nodes", node_id),
                key=True,
                hint=(f"connect one (`- other.out -> {node_id}.{first_port}`) or send it an initial packet"
                      if first_port else "connect one of its inports or send it an initial packet"),
            ))
        readable = [p for p in component.outports if p.name != "error" and not p.optional]
        if readable and not (outputs[node_id] - {"error"}):
            names = ", ".join(_names(readable))
            issues.append(Issue(
                "W002",
                f"nothing reads the output of {who(node_id)}: none of its outports ({names}) is connected or exported",
                ("nodes", node_id),
                key=True,
                hint="connect an outport, export it under `outports:`, or remove the node",
            ))
    return issues


# -- configs -----------------------------------------------------------------------------

_VALIDATORS: dict[int, tuple[Any, Any]] = {}


def _validator(schema: Any) -> Any:
    cached = _VALIDATORS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    import jsonschema  # lazy: only components with a config schema pay for it

    validator = jsonschema.validators.validator_for(schema)(schema)
    _VALIDATORS[id(schema)] = (schema, validator)  # the schema is kept alive, so its id stays unique
    return validator


def check_configs(spec: dict[str, Any], resolved: dict[str, Resolved], unknown_keys: bool = True) -> list[Issue]:
    """E015 for every node config that does not match its component's config schema (defaults filled in).

    With ``unknown_keys``, also W005 for a config key the component's schema
    does not name (a misspelt key would otherwise be ignored in silence).
    Graph JSON exports skip it: their process metadata may carry other tools' keys.
    """
    issues: list[Issue] = []
    for node_id, node in spec["nodes"].items():
        found = resolved.get(node_id)
        component = found.spec if found is not None else None
        if component is None or not component.config_schema:
            continue
        config = component.config_defaults()
        config.update(node.get("config") or {})
        who = f"node {node_id!r} ({node['component']})"
        if unknown_keys:
            issues.extend(_unknown_config_keys(component, node.get("config") or {}, who, node_id))
        try:
            errors = sorted(_validator(component.config_schema).iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
            found_issues = [issue for error in errors for issue in describe_error(error, ("config",))]
        except RecursionError:
            found_issues = [Issue("E015", "the config nests too deeply to check", ("config",))]
        except Exception as exc:  # noqa: BLE001 - the component's schema itself is broken
            issues.append(Issue("E015", f"{who}: the component's config schema is broken: {exc}".split("\n")[0],
                                ("nodes", node_id, "component"), hint="report this to the component's author"))
            continue
        for issue in found_issues:
            issues.append(Issue(
                "E015",
                f"{who}: {issue.message}",
                ("nodes", node_id, *issue.path),
                hint=issue.hint or _config_hint(component),
                key=issue.key,
            ))
    return issues


def _unknown_config_keys(component: ComponentSpec, config: Any, who: str, node_id: str) -> list[Issue]:
    """W005 for each key of ``config`` that the component's schema neither names nor matches by pattern."""
    schema = component.config_schema
    if not isinstance(schema, dict) or not isinstance(config, dict) or schema.get("additionalProperties") is False:
        return []  # no schema to go by, or E015 reports unknown keys already
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return []
    patterns = [p for p in (schema.get("patternProperties") or {}) if isinstance(p, str)]
    issues = []
    for key in config:
        if not isinstance(key, str) or key in properties or any(re.search(p, key) for p in patterns):
            continue
        close = suggest(key, list(properties))
        hint = f"did you mean {close!r}?" if close else f"its config keys: {', '.join(properties)}"
        issues.append(Issue("W005", f"{who}: config key {key!r} is not one the component reads; it is ignored",
                            ("nodes", node_id, "config", key), hint=hint, key=True))
    return issues


def _config_hint(component: ComponentSpec) -> str | None:
    schema = component.config_schema or {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(properties, dict) and properties:
        return f"its config keys: {', '.join(properties)}"
    return None
