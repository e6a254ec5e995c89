"""The bundled template catalog: template_list() ids, sorted (later work picks new ids
that do not collide with these)."""

from __future__ import annotations

from typing import Any

from _harness import case, describe_exc
from offbit_reflow import template_actor, template_list

GOLDEN = "templates.json"
ABOUT = __doc__


@case("template_list")
def template_list_case() -> Any:
    ids = template_list()
    return {
        "count": len(ids),
        "unique": len(set(ids)),
        "returned_sorted": ids == sorted(ids),
        "all_start_with_tpl_": all(t.startswith("tpl_") for t in ids),
        "ids": sorted(ids),
    }


@case("template_actor_all")
def template_actor_all() -> Any:
    """template_actor(id) for every listed id: the type of the object returned (or the error)."""
    types: dict[str, int] = {}
    errors = {}
    for tid in template_list():
        try:
            actor = template_actor(tid)
        except BaseException as exc:  # noqa: BLE001
            errors[tid] = describe_exc(exc)
            continue
        name = f"{type(actor).__module__}.{type(actor).__name__}"
        types[name] = types.get(name, 0) + 1
    return {"types": types, "errors": errors}
