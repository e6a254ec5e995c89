"""reflow.pack.ml: ONNX inference and image/tensor ops for reflow pipelines.

Tensors travel as ``Object {dtype, shape, data: Bytes}`` and are read with
``np.frombuffer`` (no copy). numpy and onnxruntime are imported when a node
first needs them, so loading the pack (and validating specs) needs neither.
"""

from __future__ import annotations

from typing import Any

from ._image import COMPONENTS as IMAGE_COMPONENTS
from ._inference import COMPONENTS as INFERENCE_COMPONENTS
from ._post import COMPONENTS as POST_COMPONENTS

__all__ = ["COMPONENTS", "register"]

#: Every template of the pack: ``{template_id: Actor subclass}``.
COMPONENTS: dict[str, Any] = {**INFERENCE_COMPONENTS, **IMAGE_COMPONENTS, **POST_COMPONENTS}


def register(registrar: Any) -> None:
    """The pack's entrypoint: offer every template to reflow."""
    for template_id, component in COMPONENTS.items():
        registrar.register(template_id, component)
