"""``reflow pack``: build, inspect, strip, install, list and remove actor packs (over :mod:`reflow_cli.packs`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from ._app import app
from ._common import EXIT_FAILED, err as _err


pack_app = typer.Typer(
    name="pack",
    help="Actor packs (.rflpack): build them from a pack folder, inspect, strip to one platform, install, list, remove."
    "\n\nExample: reflow pack build packs/ml && reflow pack install reflow.pack.ml-0.1.0.rflpack",
    no_args_is_help=True,
)
app.add_typer(pack_app, name="pack")


def _fail(command: str, exc: Exception) -> typer.Exit:
    _err(f"reflow pack {command}: {exc}")
    return typer.Exit(EXIT_FAILED)


def _size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


@pack_app.command()
def build(
    folder: Path = typer.Argument(..., metavar="DIR", exists=True, file_okay=False,
                                  help="A pack source folder: pack.yaml and the pack's code."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                       help="The bundle to write, or a folder for it. Default: <name>-<version>.rflpack here."),
    platform: list[str] = typer.Option([], "--platform", metavar="TAG",
                                       help="Vendor the requirements' wheels for this wheel platform tag "
                                       "(manylinux2014_x86_64, macosx_11_0_arm64, win_amd64); repeat for a full bundle."),
    python_version: str | None = typer.Option(None, "--python-version", metavar="X.Y",
                                              help="The Python version the wheels are for (default: this one)."),
) -> None:
    """Build a .rflpack bundle from a pack source folder; prints the bundle's path.

    Example: reflow pack build packs/ml -o dist/

    Example (installs offline on two platforms): reflow pack build packs/ml --platform manylinux2014_x86_64 --platform win_amd64
    """
    from ..errors import PackError
    from ..packs import build_pack, inspect_pack

    try:
        path = build_pack(folder, output, platforms=platform, python=python_version)
        manifest = inspect_pack(path)
    except PackError as exc:
        raise _fail("build", exc) from None
    targets = ", ".join(sorted(manifest["targets"]))
    _err(f"built {manifest['name']} {manifest['version']}: {len(manifest['templates'])} templates, "
         f"platforms {targets}, {_size(path.stat().st_size)}")
    print(path)


def _target_sizes(manifest: dict[str, Any]) -> dict[str, int]:
    files = manifest["files"]
    code = sum(entry["size"] for name, entry in files.items() if name.startswith("code/"))
    out = {}
    for tag, target in manifest["targets"].items():
        out[tag] = code + sum(files[name]["size"] for name in (*target.get("wheels", ()), *target.get("modules", ())))
    return out


def _ports(ports: list[dict[str, Any]]) -> str:
    return ", ".join(p["name"] + (f":{p['type']}" if p.get("type") else "") for p in ports) or "-"


@pack_app.command()
def inspect(
    file: str = typer.Argument(..., metavar="FILE", help="A .rflpack bundle, an unpacked pack folder, or an installed pack's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest (defaults filled in) as JSON; "
                                 "errors still go to stderr, with exit status 1 and nothing on stdout."),
) -> None:
    """Show a pack's manifest: templates and their ports, platforms, sizes, requirements. Never runs pack code.

    A bundle is checked first, as install checks it: every member against the size and SHA-256 that
    manifest.json lists, and the listing against the members. A corrupt or altered bundle is reported
    (each problem on its own line) and exits 1.

    Example: reflow pack inspect reflow.pack.ml-0.1.0.rflpack
    """
    from ..errors import PackError
    from ..packs import inspect_pack as inspect_manifest
    from ..packs import pack_abi_version

    try:
        manifest = inspect_manifest(file)
    except PackError as exc:
        raise _fail("inspect", exc) from None
    if as_json:
        sys.stdout.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return
    abi = manifest["reflow_pack_abi_version"]
    abi_note = "ok" if abi == pack_abi_version() else f"this reflow loads ABI {pack_abi_version()}: cannot load"
    total = sum(entry["size"] for entry in manifest["files"].values())
    flavour = "full" if len(manifest["targets"]) > 1 else "slim"
    lines = [
        f"{manifest['name']} {manifest['version']}" + (f" — {manifest['description']}" if manifest["description"] else ""),
        f"  ABI           {abi} ({abi_note})",
        f"  entrypoint    {manifest['entrypoint']}",
        f"  license       {manifest['license'] or '-'}",
        f"  authors       {', '.join(manifest['authors']) or '-'}",
        f"  requires      {', '.join(manifest['requires']) or '-'}",
        f"  bundle        {flavour}, {len(manifest['files'])} files, {_size(total)} unpacked",
        "  platforms",
    ]
    for tag, size in sorted(_target_sizes(manifest).items()):
        target = manifest["targets"][tag]
        detail = f"{len(target.get('wheels', ()))} wheels" + (
            f", {len(target['modules'])} modules" if target.get("modules") else ""
        ) + (f", Python {target['python']}" if target.get("python") else "")
        lines.append(f"    {tag:<28} {_size(size):>10}  {detail}")
    lines.append(f"  templates ({len(manifest['templates'])})")
    meta = manifest["template_meta"]
    for template_id in manifest["templates"]:
        entry = meta.get(template_id, {})
        lines.append(f"    {template_id:<28} in: {_ports(entry.get('inports', []))}  out: {_ports(entry.get('outports', []))}")
    sys.stdout.write("\n".join(lines) + "\n")


@pack_app.command()
def strip(
    file: Path = typer.Argument(..., metavar="FILE", exists=True, dir_okay=False, help="A .rflpack bundle."),
    platform: list[str] = typer.Option([], "--platform", metavar="TAG",
                                       help="Keep this platform's target (default: this machine's); repeatable."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE",
                                       help="Where to write. Default: <name>-<version>-<tag>.rflpack next to FILE."),
) -> None:
    """Write a slim copy of a bundle with one platform's artifacts; prints its path.

    Example: reflow pack strip reflow.pack.ml-0.1.0.rflpack
    """
    from ..errors import PackError
    from ..packs import strip_pack

    try:
        path = strip_pack(file, platform, output)
    except PackError as exc:
        raise _fail("strip", exc) from None
    _err(f"stripped {file.name} ({_size(file.stat().st_size)}) to {path.name} ({_size(path.stat().st_size)})")
    print(path)


@pack_app.command()
def install(
    file: Path = typer.Argument(..., metavar="FILE", exists=True, dir_okay=False, help="A .rflpack bundle."),
    all_wheels: bool = typer.Option(False, "--all-wheels",
                                    help="Install every requirement from the bundle's wheels into the pack's folder, "
                                    "even those this environment already has."),
) -> None:
    """Install a bundle into the user pack folder (REFLOW_PACK_PATH, else the platform's data folder).

    Vendored wheels for this platform are installed offline (pip --no-index) into the pack's own folder;
    specs then use the pack by name: imports: [{pack: NAME}].

    Example: reflow pack install reflow.pack.ml-0.1.0-manylinux2014_x86_64.rflpack
    """
    from ..errors import PackError
    from ..packs import install_pack

    try:
        info = install_pack(file, all_wheels=all_wheels)
    except PackError as exc:
        raise _fail("install", exc) from None
    _err(f"installed {info['name']} {info['version']} ({len(info['templates'])} templates, platform "
         f"{info['target'] or 'none'}) in {info['path']}")
    if info["installed_requirements"]:
        _err(f"installed offline from the bundle: {', '.join(info['installed_requirements'])}")
    if info["missing_requirements"]:
        _err(f"warning: not installed here and not in the bundle: {', '.join(info['missing_requirements'])}; "
             "templates that need them will fail until you pip install them "
             "(or install a bundle built with --platform for this machine)")


@pack_app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {name, version, path, templates, target}."),
) -> None:
    """List the installed packs.

    Example: reflow pack list
    """
    from ..packs import installed_packs, pack_dirs

    packs = installed_packs()
    if as_json:
        sys.stdout.write(json.dumps(packs, indent=2) + "\n")
        return
    if not packs:
        _err(f"no packs installed (in {os.pathsep.join(map(str, pack_dirs()))})")
        return
    width = max(len(p["name"]) for p in packs)
    for pack in packs:
        print(f"{pack['name']:<{width}}  {pack['version']:<10} {len(pack['templates']):>4} templates  "
              f"{pack['target'] or '-':<24} {pack['path']}")


@pack_app.command()
def remove(
    name: str = typer.Argument(..., metavar="NAME", help="The installed pack's name."),
) -> None:
    """Remove an installed pack.

    Example: reflow pack remove reflow.pack.ml
    """
    from ..errors import PackError
    from ..packs import remove_pack

    try:
        folder = remove_pack(name)
    except PackError as exc:
        raise _fail("remove", exc) from None
    _err(f"removed {name} from {folder}")


@pack_app.command()
def abi() -> None:
    """Print the pack ABI version this reflow loads (a pack must have been built for it).

    Example: reflow pack abi
    """
    from ..packs import pack_abi_version

    print(pack_abi_version())
