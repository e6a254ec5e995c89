"""From what a person writes to the normalised spec: every short form resolved.

The normalised spec is plain JSON data in one canonical shape (see
``docs/spec.md``): connections as ``{"from": {"node", "port"}, "to": ...}``,
initial packets as tagged messages, port types in their canonical form,
ports lower-cased when the spec is case-insensitive, and values that the
Graph JSON export cannot tell apart (an empty ``config`` beside reflow-only
keys, an ``index`` equal to the position) written one way only.

Normalising never raises for bad input: pieces that do not fit are left out
(the schema check has reported them) or reported here as issues. The origins
table remembers where each normalised piece came from, down to the character
inside ``a.out -> b.in``, so diagnostics point at what the person wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..actor import suggest
from ..errors import MessageError
from ..message import to_json_value
from ._issues import At, CommandLine, Issue, Origins, Path_
from ._sugar import CONNECTION, ENDPOINT, TARGET, PortTypeError, canonical_port_type, message_from_sugar

__all__ = [
    "EDGE_KEYS",
    "NODE_KEYS",
    "RESERVED_NODE_KEYS",
    "Normalised",
    "apply_overrides",
    "edge_default",
    "normalise",
]

#: Node keys that are reflow's own settings (Graph JSON: ``metadata.reflow``).
RESERVED_NODE_KEYS = ("description", "metadata", "on_error", "retry", "placement", "replicas", "resources")
NODE_KEYS = ("component", "config", *RESERVED_NODE_KEYS)
#: ``on_error`` values (the engine's error policies).
_ON_ERROR = ("fail", "continue", "skip", "retry", "dead_letter")
#: Graph JSON edge fields an initial packet's ``edge`` may carry.
EDGE_KEYS = ("metadata", "port_type", "expose", "data")


@dataclass
class Normalised:
    """The normalised spec, where its pieces came from, and what did not fit."""

    spec: dict[str, Any]
    origins: Origins = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    #: node ids that exist but are unusable (already reported): references to them are not "unknown"
    broken: set[str] = field(default_factory=set)


def _json(value: Any) -> Any:
    return to_json_value(value)


def _int(value: Any) -> int | None:
    """An int, also from an integral float (JSON Schema's ``integer``); None otherwise."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def edge_default(inport: str | None, inports: dict[str, Any]) -> dict[str, Any]:
    """The ``edge`` of an initial packet when none is written: a copy of its inport's fields, else none."""
    port = inports.get(inport) if inport is not None else None
    if port is None:
        return {}
    return {key: port[key] for key in EDGE_KEYS if key in port}


class _Normaliser:
    def __init__(self, raw: dict[str, Any], default_name: str) -> None:
        self.raw = raw
        self.default_name = default_name
        self.origins: Origins = {}
        self.issues: list[Issue] = []
        self.broken: set[str] = set()
        self.case_sensitive = True

    def issue(self, code: str, message: str, path: Path_, **extra: Any) -> None:
        self.issues.append(Issue(code, message, path, raw=True, **extra))

    def port(self, name: str) -> str:
        return name if self.case_sensitive else name.lower()

    def run(self) -> Normalised:
        raw = self.raw
        spec: dict[str, Any] = {"version": 1}
        name = raw.get("name")
        spec["name"] = name if isinstance(name, str) else self.default_name
        description = raw.get("description")
        if isinstance(description, str):
            spec["description"] = description
        case_sensitive = raw.get("case_sensitive", True)
        self.case_sensitive = case_sensitive if isinstance(case_sensitive, bool) else True
        spec["case_sensitive"] = self.case_sensitive
        properties = raw.get("properties")
        if isinstance(properties, dict):
            properties = {key: _json(value) for key, value in properties.items() if key != "name"}
            if "description" in properties and "description" in spec:
                self.issue(
                    "E002",
                    "the description is given twice: as `description` and as `properties.description`",
                    ("properties", "description"),
                    key=True,
                    hint="keep the top-level `description` and remove this one",
                )
            elif isinstance(properties.get("description"), str):
                # Graph JSON has one place for it; the spec writes a text description at the top.
                spec["description"] = properties.pop("description")
            if properties:
                spec["properties"] = properties
        spec["nodes"] = self.nodes(raw.get("nodes"))
        spec["inports"] = self.ports(raw.get("inports"), "inports")
        spec["outports"] = self.ports(raw.get("outports"), "outports")
        spec["connections"] = self.connections(raw.get("connections"))
        spec["initial"] = self.initials(raw.get("initial"), spec["inports"])
        spec["groups"] = self.groups(raw.get("groups"))
        imports = self.imports(raw.get("imports"))
        if imports:
            spec["imports"] = imports
        return Normalised(spec, self.origins, self.issues, self.broken)

    # -- nodes -----------------------------------------------------------------------

    def nodes(self, value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not isinstance(value, dict):
            return out
        for node_id, node in value.items():
            if not isinstance(node, dict) or not isinstance(node.get("component"), str) or not node["component"]:
                self.broken.add(node_id)
                continue
            entry: dict[str, Any] = {"component": node["component"]}
            config = node.get("config")
            if isinstance(config, dict):
                entry["config"] = _json(config)
            elif config is not None:
                self.broken.add(node_id)
                continue
            for key in RESERVED_NODE_KEYS:
                setting = node.get(key)
                if setting is None:
                    continue
                if key == "on_error":
                    if isinstance(setting, str) and setting in _ON_ERROR:
                        entry[key] = setting
                elif key == "description":
                    if isinstance(setting, str):
                        entry[key] = setting
                elif key == "replicas":
                    count = _int(setting)
                    if count is not None and count >= 1:
                        entry[key] = count
                    elif isinstance(setting, dict):
                        entry[key] = _json(setting)
                elif key == "placement":
                    if isinstance(setting, (str, dict)):
                        entry[key] = _json(setting)
                elif isinstance(setting, dict):  # metadata, resources, retry
                    entry[key] = _json(setting)
            if "config" in entry and not entry["config"] and len(entry) > 2:
                del entry["config"]  # {} and absent read the same once reflow keys fill the metadata
            if node_id.endswith("\n"):
                self.issue("E002", f"node id {node_id!r} ends with a line break", ("nodes", node_id), key=True,
                           hint="ids are letters, digits, '_' and '-', starting with a letter or '_'", kept=True)
            out[node_id] = entry
        return out

    # -- exported ports --------------------------------------------------------------

    def ports(self, value: Any, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not isinstance(value, dict):
            return out
        what = kind[:-1]
        for raw_name, port in value.items():
            name = self.port(raw_name)
            if name in out:
                self.issue(
                    "E002",
                    f"{what} {raw_name!r} is defined twice: port names differ only in case, "
                    "and this spec is case-insensitive",
                    (kind, raw_name),
                    key=True,
                    hint="rename one of them, or set `case_sensitive: true`",
                )
                continue
            if name != raw_name:
                self.origins[(kind, name)] = At((kind, raw_name))
            entry: dict[str, Any]
            if isinstance(port, str):
                match = TARGET.match(port)
                if match is None:
                    self.issue("E002", f"{what} {raw_name!r}: {port!r} is not NODE.PORT", (kind, raw_name),
                               hint="write an exported port as NODE.PORT")
                    continue
                entry = {"node": match[1], "port": self.port(match[2])}
                self.origins[(kind, name, "node")] = At((kind, raw_name), match.start(1))
                self.origins[(kind, name, "port")] = At((kind, raw_name), match.start(2))
            elif isinstance(port, dict) and isinstance(port.get("node"), str) and isinstance(port.get("port"), str):
                entry = {"node": port["node"], "port": self.port(port["port"])}
                if port.get("port_type") is not None:
                    try:
                        port_type = canonical_port_type(port["port_type"])
                    except PortTypeError as exc:
                        self.issue("E002", f"{what} {raw_name!r}: {exc}", (kind, raw_name, "port_type"))
                        continue
                    if port_type != "any":
                        entry["port_type"] = port_type
                if isinstance(port.get("metadata"), dict):
                    entry["metadata"] = _json(port["metadata"])
                port_id = port.get("port_id")
                if isinstance(port_id, str) and self.port(port_id) != name:
                    entry["port_id"] = self.port(port_id)
                index = _int(port.get("index"))
                if index is not None and index >= 0:
                    entry["index"] = index
                if port.get("expose") is True:
                    entry["expose"] = True
                if port.get("data") is not None:
                    entry["data"] = _json(port["data"])
            else:
                continue
            out[name] = entry
        return out

    # -- connections -----------------------------------------------------------------

    def endpoint_from(self, match: Any, group: int, raw: Path_, norm: Path_) -> dict[str, Any]:
        self.origins[(*norm, "node")] = At(raw, match.start(group))
        self.origins[(*norm, "port")] = At(raw, match.start(group + 1))
        end: dict[str, Any] = {"node": match[group], "port": self.port(match[group + 1])}
        if match[group + 2] is not None:
            end["index"] = int(match[group + 2])
            self.origins[(*norm, "index")] = At(raw, match.start(group + 2))
        return end

    def endpoint(self, value: Any, raw: Path_, norm: Path_) -> dict[str, Any] | None:
        if isinstance(value, str):
            match = ENDPOINT.match(value)
            if match is None:
                self.issue("E002", f"{value!r} is not NODE.PORT", raw, hint="write a connection end as NODE.PORT or NODE.PORT[INDEX]")
                return None
            return self.endpoint_from(match, 1, raw, norm)
        if isinstance(value, dict) and isinstance(value.get("node"), str) and isinstance(value.get("port"), str):
            end: dict[str, Any] = {"node": value["node"], "port": self.port(value["port"])}
            index = _int(value.get("index"))
            if index is not None and index >= 0:
                end["index"] = index
            if raw != norm:
                self.origins[norm] = At(raw)
            return end
        return None

    def connections(self, value: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not isinstance(value, list):
            return out
        for i, item in enumerate(value):
            j = len(out)
            raw: Path_ = ("connections", i)
            norm: Path_ = ("connections", j)
            connection: dict[str, Any]
            if isinstance(item, str):
                match = CONNECTION.match(item)
                if match is None:
                    self.issue("E002", f"{item!r} is not a connection", raw, hint="write a connection as NODE.PORT -> NODE.PORT")
                    continue
                connection = {
                    "from": self.endpoint_from(match, 1, raw, (*norm, "from")),
                    "to": self.endpoint_from(match, 4, raw, (*norm, "to")),
                }
            elif isinstance(item, dict):
                source = self.endpoint(item.get("from"), (*raw, "from"), (*norm, "from"))
                target = self.endpoint(item.get("to"), (*raw, "to"), (*norm, "to"))
                if source is None or target is None:
                    continue
                connection = {"from": source, "to": target}
                capacity = _int(item.get("capacity"))
                if capacity is not None and capacity >= 1:
                    connection["capacity"] = capacity
                metadata = item.get("metadata")
                if isinstance(metadata, dict) and (metadata or "capacity" not in connection):
                    connection["metadata"] = _json(metadata)
            else:
                continue
            if i != j:
                self.origins[norm] = At(raw)
            out.append(connection)
        return out

    # -- initial packets ------------------------------------------------------------

    def edge(self, value: dict[str, Any], raw: Path_) -> dict[str, Any] | None:
        edge: dict[str, Any] = {}
        if isinstance(value.get("metadata"), dict):
            edge["metadata"] = _json(value["metadata"])
        if value.get("port_type") is not None:
            try:
                port_type = canonical_port_type(value["port_type"])
            except PortTypeError as exc:
                self.issue("E002", f"edge: {exc}", (*raw, "port_type"))
                return None
            if port_type != "any":
                edge["port_type"] = port_type
        if value.get("expose") is True:
            edge["expose"] = True
        if value.get("data") is not None:
            edge["data"] = _json(value["data"])
        return edge

    def initials(self, value: Any, inports: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not isinstance(value, list):
            return out
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            j = len(out)
            raw: Path_ = ("initial", i)
            norm: Path_ = ("initial", j)
            entry: dict[str, Any] = {}
            inport = item.get("inport")
            if isinstance(inport, str):
                inport = entry["inport"] = self.port(inport)
            else:
                inport = None
            to = item.get("to")
            if isinstance(to, str):
                match = TARGET.match(to)
                if match is None:
                    hint = "an initial packet's position is its `index`" if "[" in to else "write the target as NODE.PORT"
                    self.issue("E002", f"{to!r} is not NODE.PORT", (*raw, "to"), hint=hint)
                    continue
                target = {"node": match[1], "port": self.port(match[2])}
                self.origins[(*norm, "to", "node")] = At((*raw, "to"), match.start(1))
                self.origins[(*norm, "to", "port")] = At((*raw, "to"), match.start(2))
            elif isinstance(to, dict) and isinstance(to.get("node"), str) and isinstance(to.get("port"), str):
                target = {"node": to["node"], "port": self.port(to["port"])}
            elif to is None and inport is not None:
                port = inports.get(inport)
                if port is None:
                    close = suggest(inport, inports)
                    self.issue(
                        "E012",
                        f"the graph has no inport {inport!r} to send this initial packet through",
                        (*raw, "inport"),
                        hint=f"did you mean {close!r}?" if close else "export it under `inports:`, or give `to: NODE.PORT`",
                    )
                    continue
                target = {"node": port["node"], "port": port["port"]}
                self.origins[(*norm, "to")] = At((*raw, "inport"))
            else:
                continue
            entry["to"] = target
            if "data" not in item:
                continue
            try:
                message = message_from_sugar(item["data"])
            except (MessageError, ValueError, TypeError, OverflowError) as exc:
                self.issue(
                    "E014",
                    f"the initial packet for {target['node']}.{target['port']} is not a valid message: {exc}",
                    (*raw, "data"),
                    hint=_message_hint(item["data"]),
                )
                continue
            entry["data"] = message.as_json()
            index = _int(item.get("index"))
            if index is not None and index >= 0 and index != j:
                entry["index"] = index
            if isinstance(item.get("metadata"), dict):
                entry["metadata"] = _json(item["metadata"])
            if isinstance(item.get("edge"), dict):
                edge = self.edge(item["edge"], (*raw, "edge"))
                if edge is not None and edge != edge_default(inport, inports):
                    entry["edge"] = edge
            if i != j:
                self.origins[norm] = At(raw)
            out.append(entry)
        return out

    # -- groups ---------------------------------------------------------------------

    def imports(self, value: Any) -> list[dict[str, str]]:
        """``imports: [{pack: NAME|PATH}]`` (actor packs); malformed items are the schema's to report."""
        if not isinstance(value, list):
            return []
        return [{"pack": item["pack"]} for item in value
                if isinstance(item, dict) and isinstance(item.get("pack"), str) and item["pack"]]

    def groups(self, value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not isinstance(value, dict):
            return out
        for group_id, group in value.items():
            metadata = None
            raw: Path_
            if isinstance(group, list):
                members, raw = group, ("groups", group_id)
            elif isinstance(group, dict) and isinstance(group.get("nodes"), list):
                members, raw, metadata = group["nodes"], ("groups", group_id, "nodes"), group.get("metadata")
            else:
                continue
            norm: Path_ = ("groups", group_id, "nodes")
            if raw != norm:
                self.origins[norm] = At(raw)
            nodes: list[str] = []
            for k, node_id in enumerate(members):
                if isinstance(node_id, str) and node_id not in nodes:
                    if k != len(nodes):
                        self.origins[(*norm, len(nodes))] = At((*raw, k))
                    nodes.append(node_id)
            entry: dict[str, Any] = {"nodes": nodes}
            if isinstance(metadata, dict):
                entry["metadata"] = _json(metadata)
            out[group_id] = entry
        return out


def _message_hint(value: Any) -> str:
    if isinstance(value, dict) and "type" in value:
        return "a tagged message is {type: TAG, data: VALUE} with data of that type, e.g. {type: Integer, data: 42}"
    if isinstance(value, int):
        return "Integers are 64-bit: write a larger number as a Float (42.0e30) or a String"
    return "write the message as {type: TAG, data: VALUE}"


def normalise(raw: dict[str, Any], *, default_name: str = "") -> Normalised:
    """The normalised spec of a (schema-checked) document; never raises for bad input."""
    return _Normaliser(raw, default_name).run()


# -- command-line overrides ------------------------------------------------------------


def apply_overrides(norm: Normalised, overrides: tuple[str, ...] | list[str], parse_value: Any) -> None:
    """Apply ``node.key.sub=value`` overrides to node configs (``reflow run --set``).

    ``parse_value(text)`` reads the value as YAML (it returns ``(value, error)``).
    Problems become issues located on the command line.
    """
    nodes = norm.spec["nodes"]
    for index, text in enumerate(overrides):
        where: Path_ = ("#override", index)
        norm.origins[where] = CommandLine(index, str(text))
        left, sep, value_text = str(text).partition("=")
        parts = left.strip().split(".")
        if not sep or len(parts) < 2 or not all(parts):
            norm.issues.append(
                Issue("E002", f"--set {text!r} is not NODE.KEY=VALUE", where,
                      hint="e.g. --set read.path=other.log (a dotted KEY reaches into the config: --set n.a.b=1)")
            )
            continue
        node_id, keys = parts[0], parts[1:]
        node = nodes.get(node_id)
        if node is None:
            if node_id in norm.broken:
                continue
            hint = suggest(node_id, nodes)
            norm.issues.append(
                Issue("E011", f"--set {text!r}: the spec has no node {node_id!r}", where,
                      hint=f"did you mean {hint!r}?" if hint else f"its nodes are: {', '.join(sorted(nodes)) or '(none)'}")
            )
            continue
        value, error = parse_value(value_text)
        if error is not None:
            norm.issues.append(Issue("E001", f"--set {text!r}: the value is not valid YAML: {error}", where,
                                     hint="quote text that YAML would misread, e.g. --set 'n.key=\"a: b\"'"))
            continue
        config = node.setdefault("config", {})
        for depth, key in enumerate(keys[:-1]):
            child = config.get(key)
            if child is None:
                child = config[key] = {}
            elif not isinstance(child, dict):
                shown = ".".join(keys[: depth + 1])
                norm.issues.append(Issue("E002", f"--set {text!r}: config {shown} is not a mapping", where,
                                         hint=f"set {node_id}.{shown} itself instead"))
                break
            config = child
        else:
            config[keys[-1]] = _json(value)
            norm.origins[("nodes", node_id, "config", *keys)] = CommandLine(index, str(text))
