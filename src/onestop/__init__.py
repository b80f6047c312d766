"""onestop: one-stop medical settlement gateway and insurer SDK.

Top-level exports are the version and the error tree; each subpackage curates its own API.
"""

from onestop.errors import InvalidRequest, OnestopError
from onestop.money import Fen

__all__ = ["Fen", "InvalidRequest", "OnestopError", "__version__"]

__version__ = "0.1.0"
