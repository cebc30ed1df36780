"""A faithful local Help Scout Mailbox API 2.0 with an evolving synthetic account.

``from sandbox import Sandbox`` for in-process use; ``python -m sandbox serve`` for a
subprocess; ``sandbox.remote`` to drive one over HTTP. It imports nothing from the
project: the demo, the tests and the benchmarks use it. See ``sandbox/README.md``.
"""

from sandbox.core import Sandbox
from sandbox.truth import GroundTruth

__all__ = ["GroundTruth", "Sandbox"]
