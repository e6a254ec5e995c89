"""reflow.pack.gpu: GPU compute and rendering on wgpu-py for reflow pipelines.

One wgpu device per node (opened in ``setup``, destroyed in ``teardown``);
ticks run in worker threads. Images travel as tensors ``uint8 [H, W, C]``
(``Object {dtype, shape, data: Bytes}``) or PNG bytes. wgpu and numpy are
imported when a node starts, so loading the pack (and validating specs) needs
neither.
"""

from __future__ import annotations

from typing import Any

from ._compute import COMPONENTS as COMPUTE_COMPONENTS
from ._filters import COMPONENTS as FILTER_COMPONENTS
from ._render2d import COMPONENTS as RENDER_COMPONENTS
from ._sdf import COMPONENTS as SDF_COMPONENTS

__all__ = ["COMPONENTS", "register"]

#: Every template of the pack: ``{template_id: Actor subclass}``.
COMPONENTS: dict[str, Any] = {**COMPUTE_COMPONENTS, **RENDER_COMPONENTS, **SDF_COMPONENTS, **FILTER_COMPONENTS}


def register(registrar: Any) -> None:
    """The pack's entrypoint: offer every template to reflow."""
    for template_id, component in COMPONENTS.items():
        registrar.register(template_id, component)
