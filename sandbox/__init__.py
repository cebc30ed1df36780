"""A faithful local Help Scout Mailbox API 2.0 with an evolving synthetic account.

``from sandbox import Sandbox`` for in-process use; ``python -m sandbox serve`` for a
subprocess; ``sandbox.testing`` for pytest fixtures. See ``sandbox/README.md``.
"""

from sandbox.core import Sandbox
from sandbox.truth import GroundTruth

__all__ = ["GroundTruth", "Sandbox"]
