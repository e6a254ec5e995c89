"""The SDK's public surface is deliberate: this test pins it."""

from __future__ import annotations

import re

import reflow_cli
import reflow_cli.engine
import reflow_cli.errors

PUBLIC = [
    "Actor",
    "ActorCallContext",
    "ComponentSpec",
    "EventStream",
    "Graph",
    "Message",
    "Network",
    "NetworkStatistics",
    "PortSpec",
    "ReflowError",
    "RunState",
    "RunStatus",
    "Stream",
    "StreamReader",
    "SubgraphBuilder",
    "TickContext",
    "__version__",
    "inspect_pack",
    "list_packs",
    "load_pack",
    "pack_abi_version",
    "compose_graphs",
    "template_actor",
    "template_list",
]


def test_public_names_are_exactly_these() -> None:
    assert sorted(reflow_cli.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(reflow_cli, name), name


def test_no_private_module_leaks_into_the_public_face() -> None:
    for name in PUBLIC:
        obj = getattr(reflow_cli, name)
        module = getattr(obj, "__module__", "reflow_cli")
        assert module == "reflow_cli" or not isinstance(obj, type), (name, module)


def test_reference_names_are_present() -> None:
    for name in ["Actor", "ActorCallContext", "EventStream", "Graph", "Message", "Network",
                 "Stream", "StreamReader", "template_actor", "template_list", "compose_graphs",
                 "SubgraphBuilder", "load_pack", "inspect_pack", "list_packs", "pack_abi_version"]:
        assert hasattr(reflow_cli, name)
    assert callable(reflow_cli._shutdown_all_networks)


def test_every_error_derives_from_reflow_error() -> None:
    for name in reflow_cli.errors.__all__:
        cls = getattr(reflow_cli.errors, name)
        assert issubclass(cls, reflow_cli.ReflowError), name
        assert cls.__doc__, f"{name} needs a one-line docstring stating its condition"


def test_the_error_tree_in_the_module_docstring_names_every_error() -> None:
    tree = reflow_cli.errors.__doc__ or ""
    missing = [name for name in reflow_cli.errors.__all__ if not re.search(rf"(^\s*|── ){name}\b", tree, re.M)]
    assert not missing, f"add {missing} to the tree in reflow_cli/errors.py's docstring"


def test_public_api_has_docstrings() -> None:
    for name in PUBLIC:
        obj = getattr(reflow_cli, name)
        if isinstance(obj, type) or callable(obj):
            assert obj.__doc__, name
        if isinstance(obj, type):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not callable(member):
                    continue
                assert getattr(member, "__doc__", None), f"{name}.{attr} has no docstring"


def test_engine_exports_the_executor_seam() -> None:
    assert {"Executor", "Run", "TrioExecutor", "RunOptions"} <= set(reflow_cli.engine.__all__)
