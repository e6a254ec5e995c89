"""reflow: a flow-based programming runtime on trio (public SDK face)."""

from ._version import __version__ as __version__
from .errors import ReflowError as ReflowError
from .message import Message as Message
