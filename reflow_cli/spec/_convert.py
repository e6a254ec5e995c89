"""Normalised spec <-> Graph JSON export, and writing specs as YAML or JSON text.

The mapping is lossless in both directions (``docs/spec.md`` has the table):
``config`` is the process ``metadata``; every reflow-only node key
(``description``, ``metadata``, ``on_error``, ``placement``, ``replicas``,
``resources``) lives under ``metadata.reflow``; a connection's ``capacity``
is its ``metadata.reflow.capacity``; initial packets follow the connections
in the export's ``connections`` list. Whatever the spec's keys cannot say
(a process metadata whose ``reflow`` key is not ours, say) stays verbatim in
``config`` or ``metadata``, so nothing is lost either way.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from ..errors import GraphError
from ..graph import Graph
from ._issues import At, Origins
from ._normalise import RESERVED_NODE_KEYS, edge_default, normalise
from ._sugar import ID, message_to_sugar, port_type_from_spec, port_type_to_spec

__all__ = [
    "SCHEMA_URL",
    "dump_graph",
    "dump_spec",
    "export_origins",
    "export_to_spec",
    "graph_to_spec",
    "pretty_spec",
    "spec_to_export",
    "spec_to_graph",
]

#: The ``$id`` of the pipeline schema (``# yaml-language-server: $schema=...``).
SCHEMA_URL = "https://reflow.dev/schemas/pipeline.schema.json"

_RESERVED = frozenset(RESERVED_NODE_KEYS)


def _edge(node: str, port_id: str, port_name: str = "", index: Any = None, port_type: Any = None,
          metadata: Any = None, expose: bool = False, data: Any = None) -> dict[str, Any]:
    return {
        "data": data,
        "expose": expose,
        "index": index,
        "metadata": metadata,
        "nodeId": node,
        "portId": port_id,
        "portName": port_name,
        "portType": {"type": "any"} if port_type is None else port_type,
    }


# -- spec -> export ----------------------------------------------------------------------


def spec_to_export(spec: dict[str, Any]) -> dict[str, Any]:
    """The Graph JSON export of a *normalised* spec (plain dicts; no checks)."""
    properties = dict(spec.get("properties") or {})
    if "description" in spec:
        properties["description"] = spec["description"]
    properties["name"] = spec.get("name", "")
    if spec.get("imports"):  # actor packs: Graph JSON keeps them among the graph's properties
        properties["imports"] = [dict(item) for item in spec["imports"]]
    processes: dict[str, Any] = {}
    for node_id, node in spec["nodes"].items():
        config = node.get("config")
        metadata = None if config is None else dict(config)
        reflow = {key: node[key] for key in RESERVED_NODE_KEYS if key in node}
        if reflow:
            metadata = metadata or {}
            existing = metadata.get("reflow")
            metadata["reflow"] = {**existing, **reflow} if isinstance(existing, dict) else reflow
        processes[node_id] = {"component": node["component"], "id": node_id, "metadata": metadata}
    connections: list[dict[str, Any]] = []
    for connection in spec["connections"]:
        source, target = connection["from"], connection["to"]
        metadata = connection.get("metadata")
        if "capacity" in connection:
            metadata = dict(metadata or {})
            existing = metadata.get("reflow")
            extra = existing if isinstance(existing, dict) else {}
            metadata["reflow"] = {**extra, "capacity": connection["capacity"]}
        connections.append({
            "data": None,
            "from": _edge(source["node"], source["port"], index=source.get("index")),
            "metadata": metadata,
            "to": _edge(target["node"], target["port"], index=target.get("index")),
        })
    ports: dict[str, dict[str, Any]] = {}
    for kind in ("inports", "outports"):
        ports[kind] = {
            name: _edge(
                port["node"],
                port.get("port_id", name),
                port["port"],
                port.get("index"),
                port_type_from_spec(port.get("port_type", "any")),
                port.get("metadata"),
                bool(port.get("expose", False)),
                port.get("data"),
            )
            for name, port in spec[kind].items()
        }
    for position, initial in enumerate(spec["initial"]):
        target = initial["to"]
        inport = initial.get("inport")
        edge = initial.get("edge")
        if edge is None:
            edge = edge_default(inport, spec["inports"])
        port_id, port_name = (inport, target["port"]) if inport is not None else (target["port"], "")
        connections.append({
            "data": initial["data"],
            "from": _edge("", ""),
            "metadata": initial.get("metadata"),
            "to": _edge(
                target["node"],
                port_id,
                port_name,
                initial.get("index", position),
                port_type_from_spec(edge.get("port_type", "any")),
                edge.get("metadata"),
                bool(edge.get("expose", False)),
                edge.get("data"),
            ),
        })
    groups = [
        {"id": group_id, "metadata": group.get("metadata"), "nodes": list(group["nodes"])}
        for group_id, group in spec["groups"].items()
    ]
    return {
        "caseSensitive": spec.get("case_sensitive", True),
        "connections": connections,
        "groups": groups,
        "inports": dict(sorted(ports["inports"].items())),
        "outports": dict(sorted(ports["outports"].items())),
        "processes": dict(sorted(processes.items())),
        "properties": dict(sorted(properties.items())),
    }


def spec_to_graph(spec: dict[str, Any], *, name: str | None = None) -> Graph:
    """The :class:`~reflow_cli.graph.Graph` a spec describes.

    ``spec`` is a spec document as plain data (short forms allowed; a
    :attr:`LoadedPipeline.spec` is already normalised). ``name`` is the graph
    name when the spec has none. Raises :class:`~reflow_cli.errors.GraphError`
    when the spec does not describe a graph; validate it first
    (:func:`load_pipeline`) for diagnostics.
    """
    norm = normalise(spec, default_name=name or "")
    if norm.issues:
        first = norm.issues[0]
        raise GraphError(f"the spec is not valid ({first.code}): {first.message}; run `reflow validate` for every problem")
    return Graph.from_json(spec_to_export(norm.spec))


# -- export -> spec -----------------------------------------------------------------


def _valid_setting(key: str, value: Any) -> bool:
    """Whether a ``metadata.reflow`` value is one the normaliser keeps as the node key ``key``."""
    if key == "on_error":
        return value in ("fail", "continue", "skip", "retry", "dead_letter") and isinstance(value, str)
    if key == "description":
        return isinstance(value, str)
    if key == "replicas":
        return (type(value) is int and value >= 1) or isinstance(value, dict)
    if key == "placement":
        return isinstance(value, (str, dict))
    return isinstance(value, dict)


def _edge_fields(edge: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if edge.get("metadata") is not None:
        fields["metadata"] = edge["metadata"]
    port_type = port_type_to_spec(edge.get("portType") or {"type": "any"})
    if port_type != "any":
        fields["port_type"] = port_type
    if edge.get("expose") is True:
        fields["expose"] = True
    if edge.get("data") is not None:
        fields["data"] = edge["data"]
    return fields


def _end(edge: dict[str, Any]) -> dict[str, Any]:
    end = {"node": edge["nodeId"], "port": edge["portId"]}
    if edge.get("index") is not None:
        end["index"] = edge["index"]
    return end


def export_to_spec(doc: dict[str, Any], order: list[str] | None = None) -> dict[str, Any]:
    """The normalised spec of a Graph JSON export as :meth:`Graph.to_json` writes it.

    ``order`` is the node order (the export's ``processes`` are sorted by id).
    """
    properties = dict(doc.get("properties") or {})
    spec: dict[str, Any] = {"version": 1, "name": properties.pop("name", "")}
    if isinstance(properties.get("description"), str):
        spec["description"] = properties.pop("description")
    spec["case_sensitive"] = doc["caseSensitive"]
    imports = properties.get("imports")
    if isinstance(imports, list) and imports and all(
        isinstance(item, dict) and set(item) == {"pack"} and isinstance(item["pack"], str) and item["pack"]
        for item in imports
    ):
        spec["imports"] = [dict(item) for item in properties.pop("imports")]
    if properties:
        spec["properties"] = properties
    processes = doc["processes"]
    nodes: dict[str, Any] = {}
    for node_id in order if order is not None else processes:
        process = processes[node_id]
        entry: dict[str, Any] = {"component": process["component"]}
        metadata = process["metadata"]
        if metadata is not None:
            reflow = metadata.get("reflow")
            if (
                isinstance(reflow, dict)
                and reflow
                and all(key in _RESERVED and _valid_setting(key, value) for key, value in reflow.items())
            ):
                entry.update(reflow)
                config = {key: value for key, value in metadata.items() if key != "reflow"}
                if config:
                    entry["config"] = config
            else:
                entry["config"] = metadata
        nodes[node_id] = entry
    spec["nodes"] = nodes
    for kind in ("inports", "outports"):
        ports: dict[str, Any] = {}
        for name, edge in doc[kind].items():
            port: dict[str, Any] = {"node": edge["nodeId"], "port": edge["portName"]}
            if edge["portId"] != name:
                port["port_id"] = edge["portId"]
            port_type = port_type_to_spec(edge["portType"])
            if port_type != "any":
                port["port_type"] = port_type
            if edge.get("metadata") is not None:
                port["metadata"] = edge["metadata"]
            if edge.get("index") is not None:
                port["index"] = edge["index"]
            if edge.get("expose") is True:
                port["expose"] = True
            if edge.get("data") is not None:
                port["data"] = edge["data"]
            ports[name] = port
        spec[kind] = ports
    connections: list[dict[str, Any]] = []
    initials: list[dict[str, Any]] = []
    for connection in doc["connections"]:
        metadata = connection.get("metadata")
        if connection.get("data") is None:
            entry = {"from": _end(connection["from"]), "to": _end(connection["to"])}
            if metadata is not None:
                reflow = metadata.get("reflow")
                if (
                    isinstance(reflow, dict)
                    and set(reflow) == {"capacity"}
                    and type(reflow["capacity"]) is int
                    and reflow["capacity"] >= 1
                ):
                    entry["capacity"] = reflow["capacity"]
                    rest = {key: value for key, value in metadata.items() if key != "reflow"}
                    if rest:
                        entry["metadata"] = rest
                else:
                    entry["metadata"] = metadata
            connections.append(entry)
            continue
        to = connection["to"]
        initial: dict[str, Any] = {}
        if to["portName"]:
            initial["inport"] = to["portId"]
            initial["to"] = {"node": to["nodeId"], "port": to["portName"]}
        else:
            initial["to"] = {"node": to["nodeId"], "port": to["portId"]}
        initial["data"] = connection["data"]
        if to.get("index") is not None and to["index"] != len(initials):
            initial["index"] = to["index"]
        if metadata is not None:
            initial["metadata"] = metadata
        fields = _edge_fields(to)
        if fields != edge_default(initial.get("inport"), spec["inports"]):
            initial["edge"] = fields
        initials.append(initial)
    spec["connections"] = connections
    spec["initial"] = initials
    groups: dict[str, Any] = {}
    for group in doc["groups"]:
        entry = {"nodes": list(group["nodes"])}
        if group.get("metadata") is not None:
            entry["metadata"] = group["metadata"]
        groups[group["id"]] = entry
    spec["groups"] = groups
    return spec


def graph_to_spec(graph: Graph) -> dict[str, Any]:
    """The normalised spec of a :class:`~reflow_cli.graph.Graph` (nodes in the graph's order)."""
    return export_to_spec(graph.to_json(), [process.id for process in graph.iter_processes()])


def export_origins(raw: Any, spec: dict[str, Any]) -> Origins:
    """Where each piece of ``export_to_spec(...)`` sits in the export document ``raw``."""
    origins: Origins = {}
    if not isinstance(raw, dict):
        return origins
    if "imports" in spec:
        origins[("imports",)] = At(("properties", "imports"))
    for node_id in spec["nodes"]:
        base = ("processes", node_id)
        origins[("nodes", node_id)] = At(base)
        origins[("nodes", node_id, "component")] = At((*base, "component"))
        origins[("nodes", node_id, "config")] = At((*base, "metadata"))
        for key in RESERVED_NODE_KEYS:
            origins[("nodes", node_id, key)] = At((*base, "metadata", "reflow", key))
    lower = not spec.get("case_sensitive", True)
    entries = raw.get("connections")
    if isinstance(entries, list):
        seen: set[tuple[Any, ...]] = set()
        connection_index = initial_index = 0
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            base = ("connections", i)
            if entry.get("data") is None:
                source, target = entry.get("from") or {}, entry.get("to") or {}
                ends = (source.get("nodeId"), source.get("portId"), target.get("nodeId"), target.get("portId"))
                edge_key = tuple(str(part).lower() if lower and n % 2 else part for n, part in enumerate(ends))
                if edge_key in seen:
                    continue
                seen.add(edge_key)
                norm: tuple[Any, ...] = ("connections", connection_index)
                connection_index += 1
                origins[norm] = At(base)
                for role in ("from", "to"):
                    origins[(*norm, role)] = At((*base, role))
                    origins[(*norm, role, "node")] = At((*base, role, "nodeId"))
                    origins[(*norm, role, "port")] = At((*base, role, "portId"))
                origins[(*norm, "capacity")] = At((*base, "metadata", "reflow", "capacity"))
            else:
                norm = ("initial", initial_index)
                initial_index += 1
                through = bool((entry.get("to") or {}).get("portName"))
                origins[norm] = At(base)
                origins[(*norm, "to")] = At((*base, "to"))
                origins[(*norm, "to", "node")] = At((*base, "to", "nodeId"))
                origins[(*norm, "to", "port")] = At((*base, "to", "portName" if through else "portId"))
                origins[(*norm, "inport")] = At((*base, "to", "portId"))
    for kind in ("inports", "outports"):
        ports = raw.get(kind)
        if isinstance(ports, dict):
            for raw_name in ports:
                name = raw_name.lower() if lower else raw_name
                origins[(kind, name)] = At((kind, raw_name))
                origins[(kind, name, "node")] = At((kind, raw_name, "nodeId"))
                origins[(kind, name, "port")] = At((kind, raw_name, "portName"))
    groups = raw.get("groups")
    if isinstance(groups, list):
        for index, group in enumerate(groups):
            if isinstance(group, dict) and isinstance(group.get("id"), str):
                origins[("groups", group["id"])] = At(("groups", index))
    return origins


# -- writing specs -------------------------------------------------------------------

_NODE_ORDER = ("component", "description", "config", "on_error", "retry", "placement", "replicas", "resources", "metadata")


def _endpoint_text(end: dict[str, Any], *, with_index: bool = True) -> str | None:
    if not (ID.match(end["node"]) and ID.match(end["port"])):
        return None
    text = f"{end['node']}.{end['port']}"
    if "index" in end:
        if not with_index:
            return None
        text += f"[{end['index']}]"
    return text


def _pretty_end(end: dict[str, Any], *, with_index: bool = True) -> Any:
    text = _endpoint_text(end, with_index=with_index)
    return dict(end) if text is None else text


def pretty_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The normalised spec with its short forms back, as a person would write it."""
    out: dict[str, Any] = {"version": spec.get("version", 1), "name": spec.get("name", "")}
    if "description" in spec:
        out["description"] = spec["description"]
    if spec.get("case_sensitive", True) is not True:
        out["case_sensitive"] = spec["case_sensitive"]
    if spec.get("properties"):
        out["properties"] = spec["properties"]
    if spec.get("imports"):
        out["imports"] = [dict(item) for item in spec["imports"]]
    out["nodes"] = {
        node_id: {key: node[key] for key in (*_NODE_ORDER, *node) if key in node}
        for node_id, node in spec["nodes"].items()
    }
    connections: list[Any] = []
    for connection in spec.get("connections", ()):
        source = _pretty_end(connection["from"])
        target = _pretty_end(connection["to"])
        if isinstance(source, str) and isinstance(target, str) and set(connection) == {"from", "to"}:
            connections.append(f"{source} -> {target}")
            continue
        item = {"from": source, "to": target}
        item.update((key, connection[key]) for key in ("capacity", "metadata") if key in connection)
        connections.append(item)
    if connections:
        out["connections"] = connections
    initials = []
    for initial in spec.get("initial", ()):
        item = {"to": _pretty_end(initial["to"], with_index=False)}
        if "inport" in initial:
            item["inport"] = initial["inport"]
        item["data"] = message_to_sugar(initial["data"])
        item.update((key, initial[key]) for key in ("index", "metadata", "edge") if key in initial)
        initials.append(item)
    if initials:
        out["initial"] = initials
    for kind in ("inports", "outports"):
        ports = {}
        for name, port in spec.get(kind, {}).items():
            short = set(port) == {"node", "port"} and _endpoint_text(port)
            ports[name] = short or dict(port)
        if ports:
            out[kind] = ports
    groups = {}
    for group_id, group in spec.get("groups", {}).items():
        groups[group_id] = list(group["nodes"]) if "metadata" not in group else dict(group)
    if groups:
        out["groups"] = groups
    return out


_FLOW_PLAIN = re.compile(r"[\w][\w .\-/@+=]*(?<! )\Z")
_NEEDS_ESCAPES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _compact(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))


def _yaml_tree(value: Any, depth: int, flow: bool = False) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, str):
        # Inside [...] and {...} YAML 1.2 allows plain text that libyaml (the fast
        # parser, YAML 1.1) refuses, such as ``a:b`` and ``0?``: quote all but plain
        # words there. Line breaks YAML folds (NEL, U+2028...) and control
        # characters survive only as escapes, which only "..." has.
        if (flow and not _FLOW_PLAIN.match(value)) or _NEEDS_ESCAPES.search(value):
            return DoubleQuotedScalarString(value)
        return value
    if not isinstance(value, (dict, list)):
        return value
    flow = flow or (depth >= 2 and _compact(value) <= 100)
    if isinstance(value, dict):
        node: Any = CommentedMap(
            (_yaml_tree(key, depth + 1, flow), _yaml_tree(item, depth + 1, flow)) for key, item in value.items()
        )
    else:
        node = CommentedSeq(_yaml_tree(item, depth + 1, flow) for item in value)
    if flow:
        node.fa.set_flow_style()
    else:
        node.fa.set_block_style()
    return node


def dump_spec(spec: dict[str, Any], fmt: str = "yaml") -> str:
    """The spec as YAML (with an editor schema comment) or JSON text, short forms restored."""
    pretty = pretty_spec(spec)
    if fmt == "json":
        return json.dumps(pretty, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise ValueError(f"unknown spec format {fmt!r}; use yaml or json")
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.width = 1 << 16
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    stream = io.StringIO()
    stream.write(f"# yaml-language-server: $schema={SCHEMA_URL}\n")
    yaml.dump(_yaml_tree(pretty, 0), stream)
    return stream.getvalue()


def dump_graph(graph: Graph) -> str:
    """A graph's Graph JSON export as text (keys sorted, two-space indent)."""
    return json.dumps(graph.to_json(), indent=2, sort_keys=True) + "\n"

