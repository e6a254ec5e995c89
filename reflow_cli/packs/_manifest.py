"""The pack manifest: the ABI version, parsing, the schema check, defaults, and template metadata.

A manifest is checked in this order, before any pack code runs:

1. it is a JSON object without duplicate keys;
2. it is not an offbit-reflow (Rust cdylib) manifest: those are recognised
   and refused with their own message (:class:`ReferencePackError`);
3. it matches ``schemas/pack.schema.json``;
4. its parts agree with each other (``templates`` are the keys of
   ``template_meta``; every wheel and module a target names is in ``files``;
   member paths are safe).

The ABI check (:func:`check_abi`) is separate, so ``inspect_pack`` can show a
pack built for another ABI.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ..actor import ComponentSpec, PortSpec
from ..errors import PackABIError, PackFormatError, ReferencePackError
from ._abi import MANIFEST_VERSION, PACK_ABI_VERSION
from ._archive import check_member_name

__all__ = [
    "MANIFEST_VERSION",
    "PACK_ABI_VERSION",
    "check_abi",
    "pack_schema",
    "parse_manifest",
    "template_specs",
    "with_defaults",
]

#: Optional fields and their defaults (``inspect_pack`` fills them in, as the reference does).
_DEFAULTS: dict[str, Any] = {
    "templates": [],
    "authors": [],
    "description": "",
    "license": "",
    "template_meta": {},
    "requires": [],
}


@functools.cache
def pack_schema() -> dict[str, Any]:
    """``schemas/pack.schema.json`` (parsed; do not mutate)."""
    text = resources.files("reflow_cli.schemas").joinpath("pack.schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@functools.cache
def _validator() -> Any:
    import jsonschema  # lazy: only reading a pack pays for it

    schema = pack_schema()
    return jsonschema.validators.validator_for(schema)(schema)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise PackFormatError(f"manifest.json has the key {key!r} twice")
        out[key] = value
    return out


def _looks_like_triple(key: str) -> bool:
    # Rust target triples: x86_64-unknown-linux-gnu, aarch64-apple-darwin, x86_64-pc-windows-msvc
    return key.count("-") >= 2


def _reference_pack(document: Mapping[str, Any]) -> str | None:
    """Why ``document`` is an offbit-reflow (Rust cdylib) manifest, or None when it is not one."""
    targets = document.get("targets")
    native: list[str] = []
    if isinstance(targets, Mapping):
        for triple, target in targets.items():
            if isinstance(target, Mapping) and "file" in target:
                native.append(f"{triple}: {target['file']}")
    if native:
        return ", ".join(native)
    if "files" not in document and isinstance(targets, Mapping) and any(_looks_like_triple(k) for k in targets):
        return ", ".join(str(key) for key in targets)
    entrypoint = document.get("entrypoint")
    if "files" not in document and isinstance(entrypoint, str) and ":" not in entrypoint:
        return f"entrypoint symbol {entrypoint}"
    return None


def _pointer(path: Any) -> str:
    parts = [str(part) for part in path]
    return "/".join(parts) if parts else "(the top level)"


def _schema_error(where: str, document: Any) -> PackFormatError | None:
    import jsonschema

    errors = list(_validator().iter_errors(document))
    if not errors:
        return None
    best = jsonschema.exceptions.best_match(errors)
    assert best is not None
    message = best.message
    if best.validator == "additionalProperties" and best.path == type(best.path)():
        known = ", ".join(sorted(pack_schema()["properties"]))
        message = f"{message}; a manifest has the fields {known}"
    more = f" (and {len(errors) - 1} more problem{'s' * (len(errors) > 2)})" if len(errors) > 1 else ""
    return PackFormatError(
        f"{where}: manifest.json does not match the pack schema at {_pointer(best.absolute_path)}: {message}{more}"
    )


def parse_manifest(raw: bytes, where: str) -> dict[str, Any]:
    """Parse and check a manifest (steps 1-4 of the module docstring); return it with defaults filled."""
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except PackFormatError as exc:
        raise PackFormatError(f"{where}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackFormatError(f"{where}: parse manifest.json: {exc}") from None
    if not isinstance(document, dict):
        raise PackFormatError(f"{where}: manifest.json must hold a JSON object, not {type(document).__name__}")
    native = _reference_pack(document)
    if native is not None:
        name = document.get("name", "?")
        raise ReferencePackError(
            f"{where}: pack {name!r} is an offbit-reflow pack of native Rust libraries ({native}); reflow "
            "loads Python packs only. Rebuild it as a Python pack with `reflow pack build` "
            "(see docs/packs.md, 'Reference packs')"
        )
    problem = _schema_error(where, document)
    if problem is not None:
        raise problem
    manifest = with_defaults(document)
    _check_consistency(manifest, where)
    return manifest


def with_defaults(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a manifest with every optional field present (the reference's ``inspect_pack`` does this)."""
    manifest = copy.deepcopy(dict(document))
    for key, value in _DEFAULTS.items():
        manifest.setdefault(key, copy.deepcopy(value))
    return manifest


def _check_consistency(manifest: dict[str, Any], where: str) -> None:
    templates = manifest["templates"]
    meta = manifest["template_meta"]
    missing = [tid for tid in templates if tid not in meta]
    extra = sorted(set(meta) - set(templates))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no template_meta for {', '.join(missing)}")
        if extra:
            parts.append(f"template_meta for ids not in templates: {', '.join(extra)}")
        raise PackFormatError(f"{where}: manifest.json: {'; '.join(parts)} (templates and template_meta must agree)")
    files = manifest["files"]
    for name in files:
        check_member_name(name, where)
    for tag, target in manifest["targets"].items():
        for name in (*target.get("wheels", ()), *target.get("modules", ())):
            if name not in files:
                raise PackFormatError(f"{where}: manifest.json: target {tag!r} names {name!r}, which `files` does not list")
        for name in target.get("modules", ()):
            if not name.startswith(f"lib/{tag}/"):
                raise PackFormatError(f"{where}: manifest.json: target {tag!r}: module {name!r} must be under lib/{tag}/")
    module = manifest["entrypoint"].split(":", 1)[0].split(".")[0]
    if not any(name.startswith((f"code/{module}/", f"code/{module}.py")) for name in files) and not any(
        name.startswith("lib/") and name.rsplit("/", 1)[-1].startswith(module + ".") for name in files
    ):
        raise PackFormatError(
            f"{where}: manifest.json: the entrypoint module {module!r} is not in the bundle "
            f"(expected code/{module}/__init__.py or code/{module}.py)"
        )


def check_abi(manifest: Mapping[str, Any], where: str) -> None:
    """:class:`PackABIError` unless the pack was built for this reflow's pack ABI (the reference's wording)."""
    abi = manifest["reflow_pack_abi_version"]
    if abi != PACK_ABI_VERSION:
        raise PackABIError(
            f"{where}: pack {manifest['name']!r} ABI {abi} != host ABI {PACK_ABI_VERSION} — rebuild the pack "
            "against this reflow (`reflow pack build`)"
        )


def _port(data: Mapping[str, Any]) -> PortSpec:
    return PortSpec(str(data["name"]), data.get("type"), str(data.get("description", "")), bool(data.get("optional", False)))


def component_spec(template_id: str, meta: Mapping[str, Any]) -> ComponentSpec:
    """The :class:`ComponentSpec` a manifest's ``template_meta`` entry describes."""
    return ComponentSpec(
        component=str(meta.get("component", template_id)),
        inports=tuple(_port(p) for p in meta.get("inports", ())),
        outports=tuple(_port(p) for p in meta.get("outports", ())),
        await_all_inports=bool(meta.get("await_all_inports", False)),
        threaded=bool(meta.get("threaded", False)),
        long_running=bool(meta.get("long_running", False)),
        config_schema=meta.get("config_schema"),
        description=str(meta.get("description", "")),
        example=meta.get("example"),
    )


def template_specs(manifest: Mapping[str, Any]) -> dict[str, ComponentSpec]:
    """``{template_id: ComponentSpec}`` from a manifest's ``template_meta``: metadata without import."""
    meta = manifest.get("template_meta", {})
    return {tid: component_spec(tid, meta.get(tid, {"inports": [], "outports": []})) for tid in manifest.get("templates", ())}
