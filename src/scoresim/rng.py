"""Named random streams spawned from one seed (common random numbers).

Each stochastic decision owns a stream, named like ``behaviour.comment``. The generator a
stream hands out for step ``t`` depends only on the run's seed, the stream's name and
``t``: adding a mechanism (a new stream), or drawing a different amount from one stream in
one step, never shifts the draws of any other stream or step. Two scenarios run with the
same seed therefore share every draw their policies do not change.
"""

from __future__ import annotations

import zlib

import numpy as np

INIT_STEP = -1  # the 'step' of draws made while building the population


def name_key(name: str) -> int:
    """A stable 32-bit key for a stream name (the same in every Python process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Hands out generators keyed by (seed, stream name, step)."""

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self._used: dict[str, int] = {}

    def gen(self, name: str, step: int = INIT_STEP) -> np.random.Generator:
        """The generator of stream ``name`` at ``step``; ask for each pair once."""
        key = (name, step)
        if self._used.get(name) == step:
            raise RuntimeError(
                f"stream {name!r} was asked for twice at step {step}: one decision, one "
                "stream, one draw per step (give the second decision its own stream)"
            )
        self._used[key[0]] = step
        seq = np.random.SeedSequence(self.seed, spawn_key=(name_key(name), step + 1))
        return np.random.Generator(np.random.PCG64(seq))
