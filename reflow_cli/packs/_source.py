"""A pack's source folder: ``pack.yaml`` next to the pack's Python code.

::

    packs/ml/
      pack.yaml            name, version, entrypoint, requires, ...
      reflow_pack_ml/      the code (the entrypoint's top-level module)

``pack.yaml`` keys: ``name``, ``version``, ``entrypoint`` (``module:function``)
are required; ``description``, ``authors``, ``license``, ``requires`` (pip
requirements), ``code`` (the top-level modules or packages to ship; default:
the entrypoint's) and ``modules`` (``{platform tag: [prebuilt module files]}``)
are optional.

The templates' metadata comes from the code itself: the entrypoint is called
with a collecting registrar. ``reflow pack build`` does that in a child
process (:func:`collect_in_child`), so building never leaves the pack's
modules imported in the builder; loading a source folder in development
(:func:`load_source`) does it in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import PackBuildError
from ._abi import MANIFEST_VERSION, PACK_ABI_VERSION
from ._manifest import pack_schema
from ._registrar import PackRegistrar, call_entrypoint

__all__ = ["SOURCE_FILE", "PackSource", "collect_in_child", "is_source_folder", "read_source"]

SOURCE_FILE = "pack.yaml"

_SOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "version", "entrypoint"],
    "additionalProperties": False,
    "properties": {
        "name": {"$ref": "pack.schema.json#/properties/name"},
        "version": {"$ref": "pack.schema.json#/properties/version"},
        "entrypoint": {"$ref": "pack.schema.json#/properties/entrypoint"},
        "description": {"type": "string"},
        "authors": {"type": "array", "items": {"type": "string"}},
        "license": {"type": "string"},
        "requires": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "code": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.py)?$"}, "minItems": 1},
        "modules": {
            "type": "object",
            "propertyNames": {"pattern": r"^[a-z0-9_]+$"},
            "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
        },
    },
}


@dataclass
class PackSource:
    """A parsed ``pack.yaml`` and the folder it is in."""

    folder: Path
    name: str
    version: str
    entrypoint: str
    description: str = ""
    authors: list[str] = field(default_factory=list)
    license: str = ""
    requires: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    modules: dict[str, list[str]] = field(default_factory=dict)

    def manifest(
        self, meta: dict[str, Any], *, targets: dict[str, Any], files: dict[str, Any]
    ) -> dict[str, Any]:
        """The ``manifest.json`` of this source with templates ``meta``, ``targets`` and member ``files``."""
        return {
            "manifest_version": MANIFEST_VERSION,
            "name": self.name,
            "version": self.version,
            "reflow_pack_abi_version": PACK_ABI_VERSION,
            "targets": targets,
            "templates": sorted(meta),
            "authors": self.authors,
            "description": self.description,
            "license": self.license,
            "entrypoint": self.entrypoint,
            "template_meta": meta,
            "requires": self.requires,
            "files": files,
            "reflow_version": __version__,
        }

    def code_paths(self) -> list[Path]:
        """The files and folders shipped under ``code/``."""
        out = []
        for item in self.code:
            path = self.folder / item
            if not path.exists() and not item.endswith(".py") and (self.folder / f"{item}.py").is_file():
                path = self.folder / f"{item}.py"
            if not path.exists():
                raise PackBuildError(
                    f"pack source {self.folder}: code {item!r} is neither a folder nor {item}.py in the pack folder"
                )
            out.append(path)
        return out


def is_source_folder(path: Path) -> bool:
    """Whether ``path`` is a pack source folder (holds ``pack.yaml``)."""
    return (path / SOURCE_FILE).is_file()


def read_source(folder: str | os.PathLike[str]) -> PackSource:
    """Read and check ``pack.yaml`` in ``folder``."""
    import jsonschema
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    root = Path(folder)
    where = f"pack source {os.fspath(folder)}"
    path = root / SOURCE_FILE
    if not path.is_file():
        raise PackBuildError(f"{where}: no {SOURCE_FILE} in the folder (a pack source folder holds pack.yaml and code)")
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError) as exc:
        raise PackBuildError(f"{where}: cannot read {SOURCE_FILE}: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise PackBuildError(f"{where}: {SOURCE_FILE} must be a mapping with name, version and entrypoint")
    schema = pack_schema()
    registry = _schema_registry(schema)
    validator = jsonschema.Draft202012Validator(_SOURCE_SCHEMA, registry=registry)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        at = "/".join(str(p) for p in first.absolute_path) or "(the top level)"
        raise PackBuildError(f"{where}: {SOURCE_FILE} at {at}: {first.message}")
    code = list(data.get("code") or [data["entrypoint"].split(":", 1)[0].split(".")[0]])
    return PackSource(
        folder=root,
        name=data["name"],
        version=str(data["version"]),
        entrypoint=data["entrypoint"],
        description=data.get("description", ""),
        authors=list(data.get("authors", [])),
        license=data.get("license", ""),
        requires=list(data.get("requires", [])),
        code=code,
        modules={tag: list(paths) for tag, paths in (data.get("modules") or {}).items()},
    )


def _schema_registry(schema: dict[str, Any]) -> Any:
    from referencing import Registry, Resource

    return Registry().with_resource("pack.schema.json", Resource.from_contents(schema))


def collect(source: PackSource) -> PackRegistrar:
    """Call the pack's entrypoint in this process (its folder goes on ``sys.path``) and return what it registered."""
    folder = str(source.folder.resolve())
    if folder not in sys.path:
        sys.path.append(folder)
    registrar = PackRegistrar(source.name, source.version, source.folder.resolve())
    call_entrypoint(source.entrypoint, registrar)
    return registrar


def collect_in_child(source: PackSource) -> dict[str, dict[str, Any]]:
    """The templates' metadata, from calling the entrypoint in a child Python process."""
    command = [sys.executable, "-c", "from reflow_cli.packs._source import _child_main; _child_main()",
               str(source.folder.resolve())]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=source.folder)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackBuildError(f"pack source {source.folder}: cannot run Python to read the templates: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-12:])
        raise PackBuildError(f"pack source {source.folder}: reading the templates failed:\n{tail}")
    try:
        meta: dict[str, dict[str, Any]] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise PackBuildError(f"pack source {source.folder}: the template reader printed no JSON") from None
    if not meta:
        raise PackBuildError(f"pack source {source.folder}: the entrypoint {source.entrypoint} registered no templates")
    return meta


def _child_main() -> None:  # pragma: no cover - runs in the child process of collect_in_child
    source = read_source(sys.argv[1])
    try:
        registrar = collect(source)
        text = json.dumps(registrar.metadata(), sort_keys=True)
    except Exception as exc:  # noqa: BLE001 - the pack's own code may raise anything
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None
    sys.stdout.write(text)
