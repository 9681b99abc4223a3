"""Named random streams spawned from one seed (common random numbers).

Each stochastic decision owns a stream, named like ``behaviour.comment``. The generator a
stream hands out for step ``t`` depends only on the run's seed, the stream's name and
``t``: adding a mechanism (a new stream), or drawing a different amount from one stream in
one step, never shifts the draws of any other stream or step. Two scenarios run with the
same seed therefore share every draw their policies do not change.
"""

from __future__ import annotations

import threading
import zlib

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

INIT_STEP = -1  # the 'step' of draws made while building the population
BURN_IN = (1,)  # the salt of the burn-in's streams (:class:`Streams`)


def name_key(name: str) -> int:
    """A stable 32-bit key for a stream name (the same in every Python process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Hands out generators keyed by (seed, stream name, step)."""

    def __init__(self, seed: int, salt: tuple[int, ...] = ()):
        """``salt``: whole numbers >= 0 that give every stream other draws (the burn-in
        runs on ``salt=BURN_IN``); none: the run's own streams."""
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = int(seed)
        self.salt = tuple(int(x) for x in salt)
        self._used: dict[str, int] = {}

    def _seq(self, name: str, step: int) -> np.random.SeedSequence:
        if self._used.get(name) == step:
            raise RuntimeError(
                f"stream {name!r} was asked for twice at step {step}: one decision, one "
                "stream, one draw per step (give the second decision its own stream)"
            )
        self._used[name] = step
        return np.random.SeedSequence(self.seed,
                                      spawn_key=(name_key(name), step + 1, *self.salt))

    def gen(self, name: str, step: int = INIT_STEP) -> np.random.Generator:
        """The generator of stream ``name`` at ``step``; ask for each pair once."""
        return np.random.Generator(np.random.PCG64(self._seq(name, step)))

    def pcg64(self, name: str, step: int = INIT_STEP) -> np.ndarray:
        """The state of :meth:`gen`'s generator (see :func:`pcg64_state`), made straight
        from the stream's seed sequence as numpy seeds a PCG64 (no generator built)."""
        words = [int(w) for w in self._seq(name, step).generate_state(4, np.uint64)]
        inc = ((((words[2] << 64) | words[3]) << 1) | 1) & _MASK128
        # numpy's seeding: from state 0, one step; add the initial state; one more step.
        state = ((inc + ((words[0] << 64) | words[1])) * _PCG_MULT + inc) & _MASK128
        return _state_words(state, inc)

    def key(self, name: str, step: int) -> np.uint64:
        """The 64-bit key of stream ``name`` at ``step`` for :func:`counter_uniform`."""
        return self._seq(name, step).generate_state(1, np.uint64)[0]

    def uniform_for(self, name: str, step: int, ids: np.ndarray) -> np.ndarray:
        """One uniform in [0, 1) per id, a pure function of (seed, name, step, id).

        For decisions taken on a varying subset of people (records a source sees, job
        applicants): a person's draw does not depend on who else is in the subset, so two
        scenarios that differ for some people share every other person's draws.
        """
        ids = np.asarray(ids)
        if ids.size == 0:  # (no one to draw for)
            return np.empty(ids.shape, np.float64)
        return counter_uniforms(self.key(name, step), ids)


def counter_uniforms(key: np.uint64, ids: np.ndarray) -> np.ndarray:
    """One uniform in [0, 1) per id under ``key``: splitmix64's finaliser of
    ``id * golden + key`` (:func:`counter_uniform` is the compiled form)."""
    with np.errstate(over="ignore"):
        x = np.asarray(ids).astype(np.uint64) * _GOLDEN + np.uint64(key)
        x ^= x >> np.uint64(30)
        x *= _MIX1
        x ^= x >> np.uint64(27)
        x *= _MIX2
        x ^= x >> np.uint64(31)
        return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


# numpy's PCG64 (XSL-RR 128/64), compiled: the same numbers as ``Generator.random``, drawn
# inside the loops that use them (no buffer of uniforms, no call per number).
_PCG_MULT_HI = np.uint64(2549297995355413924)
_PCG_MULT_LO = np.uint64(4865540595714422341)
_PCG_MULT = (int(_PCG_MULT_HI) << 64) | int(_PCG_MULT_LO)
_MASK64, _MASK128 = (1 << 64) - 1, (1 << 128) - 1


def pcg64_state(gen: np.random.Generator) -> np.ndarray | None:
    """The generator's PCG64 state as (state high, state low, increment high, increment
    low) for :func:`pcg64_double`, or None where it is not a PCG64 with no buffered 32-bit
    half (use the generator itself then)."""
    st = gen.bit_generator.state
    if st.get("bit_generator") != "PCG64" or st.get("has_uint32"):
        return None
    return _state_words(st["state"]["state"], st["state"]["inc"])


def _state_words(state: int, inc: int) -> np.ndarray:
    """128-bit state and increment as the four words :func:`pcg64_double` takes."""
    return np.array([state >> 64, state & _MASK64, inc >> 64, inc & _MASK64], np.uint64)


def _joined(high: np.uint64, low: np.uint64) -> int:
    return (int(high) << 64) | int(low)


def pcg64_advance(state: np.ndarray, delta: int) -> np.ndarray:
    """The state after ``delta`` more numbers (as ``PCG64.advance``: the LCG's jump ahead
    by squaring, in O(log delta))."""
    s, inc = _joined(state[0], state[1]), _joined(state[2], state[3])
    mult, plus = _PCG_MULT, inc
    acc_mult, acc_plus = 1, 0
    while delta > 0:
        if delta & 1:
            acc_mult = (acc_mult * mult) & _MASK128
            acc_plus = (acc_plus * mult + plus) & _MASK128
        plus = ((mult + 1) * plus) & _MASK128
        mult = (mult * mult) & _MASK128
        delta >>= 1
    return _state_words((acc_mult * s + acc_plus) & _MASK128, inc)


def pcg64_store(gen: np.random.Generator, state: np.ndarray) -> None:
    """Put a state advanced by compiled code back into the generator."""
    st = gen.bit_generator.state
    st["state"]["state"] = _joined(state[0], state[1])
    gen.bit_generator.state = st


@intrinsic
def _mulhi(typingctx, a, b):
    """The high 64 bits of the 128-bit product of two uint64 (one instruction on x86-64
    and arm64, where four 32-bit products took a third of a draw's time)."""
    if a != types.uint64 or b != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@numba.njit(cache=True, nogil=True, inline="always")
def pcg64_double(s_hi, s_lo, i_hi, i_lo):
    """One step of PCG64 from state (s_hi, s_lo) with increment (i_hi, i_lo): returns the
    new state and the double in [0, 1) that ``Generator.random`` makes of it."""
    lo = s_lo * _PCG_MULT_LO
    hi = _mulhi(s_lo, _PCG_MULT_LO) + s_lo * _PCG_MULT_HI + s_hi * _PCG_MULT_LO
    s_lo = lo + i_lo
    s_hi = hi + i_hi + (np.uint64(1) if s_lo < lo else np.uint64(0))
    x = s_hi ^ s_lo
    r = s_hi >> np.uint64(58)
    x = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
    return s_hi, s_lo, np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


_CHUNK = 1 << 16  # uniforms drawn and used while they are in cache
_local = threading.local()


def chunked_uniforms(gen: np.random.Generator, total: int):
    """The generator's next ``total`` uniforms, chunk by chunk, as (offset, chunk): the same
    numbers as ``gen.random(total)``, in a buffer of the calling thread's own (a chunk is
    valid until the next one is asked for)."""
    buf = getattr(_local, "uniforms", None)
    if buf is None:
        buf = _local.uniforms = np.empty(_CHUNK)
    for lo in range(0, total, _CHUNK):
        u = buf[: min(_CHUNK, total - lo)]
        gen.random(out=u)
        yield lo, u


@numba.njit(cache=True, nogil=True, inline="always")
def counter_uniform(key: np.uint64, i: int) -> float:
    """The uniform :meth:`Streams.uniform_for` gives id ``i`` under ``key``, in compiled
    code (the same splitmix64 finaliser, bit for bit)."""
    x = np.uint64(i) * _GOLDEN + key
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
