"""Genuine API payloads from a sandbox account: the raw material of every benchmark.

The sandbox's ground truth holds each conversation as the API serves it, with its
complete thread list: the realistic size and shape the lake stores. One account is
generated per (size, seed) and process, and shared by the benchmarks that need it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from bench.bulkfill import payload_sizes
from bench.config import BenchConfig
from bench.payloads import Template, build_templates


@dataclass(frozen=True)
class PayloadSource:
    truth: Any  # sandbox.truth.GroundTruth
    templates: tuple[Template, ...]

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [self.truth.conversations[k] for k in sorted(self.truth.conversations)]

    def describe(self) -> dict[str, Any]:
        return {"account_conversations": len(self.truth.conversations),
                "payload_bytes": payload_sizes(self.truth.conversations)}


def account_size(config: BenchConfig) -> int:
    """Conversations in the source account: enough variety, quick to generate."""
    return config.size(2_000, 300)


@functools.lru_cache(maxsize=2)
def _source(size: int, seed: int) -> PayloadSource:
    from sandbox import Sandbox

    with Sandbox(size=size, seed=seed) as sandbox:
        truth = sandbox.truth()
    return PayloadSource(truth, tuple(build_templates(truth.conversations.values())))


def payload_source(config: BenchConfig) -> PayloadSource:
    return _source(account_size(config), config.seed)
