"""The pack ABI version (kept in a module of its own so ``import reflow_cli`` stays cheap)."""

from __future__ import annotations

__all__ = ["MANIFEST_VERSION", "PACK_ABI_VERSION"]

#: The pack ABI of this reflow. It changes only when the registration API
#: (``register(registrar)``, ``registrar.register(id, component)``) or the
#: meaning of a manifest field changes; packs built for another value are refused.
PACK_ABI_VERSION = 1
#: The manifest format this reflow writes and reads.
MANIFEST_VERSION = 1
