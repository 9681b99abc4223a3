"""The friendship network: undirected ties as two id arrays plus a CSR adjacency (M4, M6).

Generators are vectorised (no per-node Python loop): Watts-Strogatz small world (default),
a Chung-Lu graph with power-law expected degrees (scale free), a small world laid out by
region (region clustered), or an edge list read from a file.

Tie turnover (docs/network.md): every tie carries its day of formation (``formed``) and
every person a friendship *capacity*, the number of friends they had when the network
was made (time and attention bound how many ties one keeps active: Miritello et al. 2013).
Ties dissolve at a yearly rate taken from panel studies (:func:`dissolve`); a person below
capacity looks for a new friend (:func:`seekers`), meets a friend of a friend (triadic
closure, Kossinets and Watts 2006) or someone in their region or anywhere
(:func:`meet`), and a tie forms when both have room for it (:func:`has_room`) and they
get on (the caller's acceptance). So personal networks keep their size while their
members turn over, as the panels find (Mollenhorst, Volker and Flap 2014: network size
stable over seven years while about half the members were replaced).
:func:`form_ties` gives a set of people new ties by this rule (e.g. newcomers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from scoresim.engine import threads
from scoresim.engine.kernels.network import (  # the compiled kernels
    _changes,
    _csr,
    _merge_edges,
    _pad_where,
    _padded_cells,
    _scatter_to_friends,
    _slice_fill,
    _slice_offsets,
    _slice_sums_part,
    _update_rows,
    _updated_offsets,
)
from scoresim.engine.threads import map_threads, people_parts, thread_count
from scoresim.errors import ScenarioError
from scoresim.model.component import DRAWN, ROW, Array, Component
from scoresim.scenario.schema import NetworkConfig


class Network(Component):
    """Undirected simple graph on ``n`` people; ``u < v`` for every stored edge.

    Its state is the ties (a table of rows: both ends and the day of formation) and each
    person's friendship capacity; the adjacency (CSR and sliced forms) is made from the
    ties. A checkpoint's network is built from its ties before the simulation
    (:func:`scoresim.state.ties`), so :meth:`restore` only checks them."""

    KEY = "network"
    STATE = (Array("u", axis=ROW, table="ties", slots=True),
             Array("v", axis=ROW, table="ties", slots=True),
             Array("formed", axis=ROW, table="ties"),
             Array("capacity", newcomer=DRAWN))
    CACHES = ("degree", "indptr", "indices", "_slices")

    def values(self) -> dict:
        return {"version": int(self.version)}

    def set_values(self, values: dict) -> None:
        self.version = int(values["version"])

    def restore(self, saved: dict[str, np.ndarray]) -> None:
        if "u" in saved and saved["u"].shape[0] != self.n_edges:
            raise ValueError("network.u: not the ties this simulation was built on")

    def __init__(self, n: int, u: np.ndarray, v: np.ndarray):
        self.n = int(n)
        self.u, self.v = _canonical(self.n, u, v)
        # The sums over friends: the compiled kernels unless the engine hands in others
        # (:meth:`use`)
        self._neighbour_sum, self._add_to_friends = sliced_neighbour_sum, scatter_to_friends
        self._build()
        self._sliced()  # (after later changes: again on first use)
        # Each tie's day of formation (step index modulo 2**16: ages are taken modulo
        # 2**16 days, 179 years, two bytes a tie) and each person's friendship capacity
        # (the degree they were made with, at most 65,535).
        self.formed = np.zeros(self.n_edges, FORMED_DTYPE)
        self.capacity = np.minimum(self.degree, CAPACITY_MAX).astype(CAPACITY_DTYPE)

    def _build(self) -> None:
        self.version = getattr(self, "version", -1) + 1  # lets observers cache by version
        self.degree, self.indptr, self.indices = _csr(self.n, self.u, self.v)
        self._slices: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _sliced(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The adjacency in sliced ELLPACK form (built on first use after each change):
        rows taken :data:`SLICE` at a time, each slice's k-th friends side by side, padded
        to its longest row with the id ``n`` (a zero appended to the summed values). The
        rows of a slice are summed side by side, each in the order of its sorted friend
        ids, as in the CSR form. Rows in id order, or, where that would pad the slices by
        more than a fifth (uneven degrees), in order of degree within windows of 256."""
        if self._slices is None:
            order = np.arange(self.n, dtype=np.int64)
            if _padded_cells(self.degree, order) > 1.2 * max(self.indices.shape[0], 1):
                window = order // 256
                order = np.lexsort((-self.degree.astype(np.int64), window))
            order = order.astype(np.int32)  # (ids fit: 4 bytes a person, not 8)
            self._slices = (*_slice(self.indptr, self.indices, order), order)
        return self._slices

    @property
    def adjacency(self) -> sp.csr_array:
        """The adjacency matrix (both directions, sorted column indices), for inspection."""
        data = np.ones(self.indices.shape[0], np.float32)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    @property
    def n_edges(self) -> int:
        return int(self.u.shape[0])

    def use(self, kernels) -> None:
        """Sum over friends with the engine's rules (``kernels.neighbour_sum``,
        ``kernels.add_to_friends``: the plain ones or the compiled)."""
        self._neighbour_sum = kernels.neighbour_sum
        self._add_to_friends = kernels.add_to_friends

    def neighbour_sum(self, x: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``x`` over each person's friends (float32 at least; in the order of the
        sorted friend ids, so the result does not depend on the number of threads);
        ``where``: count only the friends where it is true."""
        return self._neighbour_sum(self, np.asarray(x), where)

    def add_to_friends(self, total: np.ndarray, who: np.ndarray, value: np.ndarray) -> None:
        """``total[f] += value[i]`` for every friend ``f`` of ``who[i]``, in place: the
        change of a neighbour sum when a few people's values change."""
        self._add_to_friends(self, total, who, value)

    def neighbours(self, person: int) -> np.ndarray:
        return self.indices[self.indptr[person] : self.indptr[person + 1]]

    def remove(self, drop: np.ndarray) -> int:
        """Remove the edges where ``drop`` (a mask over edges) is true."""
        return self.update(drop, np.empty(0, np.int64), np.empty(0, np.int64))[0]

    def add(self, u: np.ndarray, v: np.ndarray, today: int = 0) -> int:
        """Add ties (duplicates and self-ties are ignored), formed on day ``today``;
        returns how many were new."""
        return self.update(np.zeros(self.n_edges, bool), u, v, today)[1]

    def update(self, drop: np.ndarray, u: np.ndarray, v: np.ndarray,
               today: int = 0) -> tuple[int, int]:
        """Remove the edges masked by ``drop``, then add ties ``u``-``v`` (formed on day
        ``today``); one rebuild. Returns (removed, added)."""
        removed = np.count_nonzero(drop)
        nu, nv = _canonical(self.n, u, v)
        if not removed and not nu.size:
            return 0, 0
        gone_u, gone_v = self.u[drop], self.v[drop]
        self.u, self.v, self.formed, new = _merge_edges(
            self.u, self.v, drop, nu, nv, self.formed, FORMED_DTYPE(today % FORMED_WRAP))
        added = int(new.sum())
        if removed or added:
            # Each person's friends: the old list less the removed, plus the added.
            self.version += 1
            self.indptr, self.indices = _csr_update(
                self.indptr, self.indices, _changes(self.n, gone_u, gone_v),
                _changes(self.n, nu[new], nv[new]))
            self.degree = np.diff(self.indptr).astype(np.int32)
            self._slices = None
        return removed, added

    def shift_days(self, days: int) -> None:
        """Count the days of formation from ``days`` days later (after a burn-in, whose
        day ``days`` is the run's day 0): each tie keeps its age."""
        self.formed = ((self.formed.astype(np.int64) - days) % FORMED_WRAP).astype(FORMED_DTYPE)

    def ages(self, today: int) -> np.ndarray:
        """Each tie's age in days on day ``today`` (modulo 2**16 days)."""
        return FORMED_DTYPE(today % FORMED_WRAP) - self.formed  # (wraps: unsigned)


#: A neighbour sum of ``x`` with fewer than ``n / SPARSE_BELOW`` people whose value
#: counts (not zero, and ``where``) adds their values to their friends' sums instead of
#: summing every tie: each person's sum then takes the same values in the same order (by
#: friend id; the zeros left out add nothing: a sum that starts at +0.0 is never -0.0),
#: so the result is the same to the bit.
SPARSE_BELOW = 16


def _few_nonzero(x: np.ndarray, where: np.ndarray | None, most: int) -> np.ndarray | None:
    """The people (in increasing order) whose ``x`` counts in a neighbour sum, if at
    most ``most`` of them; else None."""
    counts = x != 0 if where is None else (x != 0) & where
    if np.count_nonzero(counts) > most:
        return None
    return np.flatnonzero(counts)


# ------------------------------------------------- sums over friends, by either engine


def neighbour_sum_plain(net: Network, x: np.ndarray, where: np.ndarray | None) -> np.ndarray:
    """:meth:`Network.neighbour_sum` plainly: the adjacency matrix times ``x`` (each row
    summed in id order, as the compiled sums are)."""
    dtype = np.result_type(np.float32, x.dtype)
    values = x if where is None else np.where(where, x, 0)
    return net.adjacency.astype(dtype) @ values.astype(dtype)


def sliced_neighbour_sum(net: Network, x: np.ndarray, where: np.ndarray | None
                         ) -> np.ndarray:
    """:meth:`Network.neighbour_sum` by the compiled kernels: scattered from the few who
    count (:data:`SPARSE_BELOW`), else summed over the sliced adjacency."""
    dtype = np.result_type(np.float32, x.dtype)
    few = _few_nonzero(x, where, net.n // SPARSE_BELOW)
    if few is not None:  # (the same sums from the few friends that count: see below)
        out = np.zeros(net.n, dtype)
        _scatter_to_friends(net.indptr, net.indices, out, few, x[few].astype(dtype))
        return out
    ptr, cols, order = net._sliced()
    padded = np.empty(net.n + 1, dtype)  # index n: the padding's zero
    if where is None:
        padded[: net.n] = x
        padded[net.n] = 0
    else:
        _pad_where(x, where, padded)
    return _slice_sums(ptr, cols, order, padded)


def add_to_friends_plain(net: Network, total: np.ndarray, who: np.ndarray,
                         value: np.ndarray) -> None:
    """:meth:`Network.add_to_friends` plainly (``np.add.at`` over each one's friends)."""
    rows = [net.neighbours(p) for p in who]
    np.add.at(total, np.concatenate(rows + [np.empty(0, np.int64)]).astype(np.int64),
              np.repeat(np.asarray(value), [r.size for r in rows]))


def scatter_to_friends(net: Network, total: np.ndarray, who: np.ndarray,
                       value: np.ndarray) -> None:
    """:meth:`Network.add_to_friends` by the compiled kernel."""
    _scatter_to_friends(net.indptr, net.indices, total, who, value)


FORMED_DTYPE = np.uint16
FORMED_WRAP = 1 << 16
CAPACITY_DTYPE = np.uint16
CAPACITY_MAX = (1 << 16) - 1
#: Ties older than this many days when a run starts are given this age (so that ages
#: stay below 2**16 days over a century's run).
OLDEST_TIE_DAYS = 20_000


# ----------------------------------------------------------------- tie turnover (M6)
# Plain rules, used by both engines (vectorised numpy; no kernel needed).


def settle_ages(network: Network, dissolve_rate_per_day: float,
                rng: np.random.Generator) -> None:
    """Ages for the ties a run starts with, drawn from the steady state of a constant
    dissolution hazard ``h``: exponential with mean ``1/h`` days (at most
    :data:`OLDEST_TIE_DAYS`), so the share of ties older than a year starts where it
    stays (about ``exp(-365 h)``)."""
    if dissolve_rate_per_day > 0:
        age = rng.exponential(1.0 / dissolve_rate_per_day, network.n_edges)
    else:
        age = np.full(network.n_edges, float(OLDEST_TIE_DAYS))
    age = np.minimum(age, OLDEST_TIE_DAYS).astype(np.int64)
    network.formed = ((-age) % FORMED_WRAP).astype(FORMED_DTYPE)


def dissolve(uniforms: np.ndarray, chance: float) -> np.ndarray:
    """Ties that end for no scoring reason: each with ``chance`` per rewiring (a
    constant hazard; the panels' yearly rate spread over the year)."""
    return uniforms < chance


def has_room(network: Network, who: np.ndarray, room_factor: np.ndarray | None = None
             ) -> np.ndarray:
    """Whether each of ``who`` has fewer friends than their capacity (times
    ``room_factor``, e.g. the dating boost, where given)."""
    cap = network.capacity[who].astype(np.float32)
    if room_factor is not None:
        cap = cap * room_factor[who]
    return network.degree[who] < cap


def missing_friends(network: Network, room_factor: np.ndarray | None = None) -> np.ndarray:
    """Per person: capacity (times ``room_factor``) less friends, at least 0 (float32)."""
    cap = network.capacity.astype(np.float32)
    if room_factor is not None:
        cap = cap * room_factor
    return np.maximum(cap - network.degree.astype(np.float32), np.float32(0.0))


def seekers(uniforms: np.ndarray, missing: np.ndarray, chance_per_missing: float,
            rate_factor: np.ndarray | None = None) -> np.ndarray:
    """Who looks for a new friend this rewiring (ids): each person with
    ``1 - exp(-chance_per_missing * missing friends * rate_factor)``, at most one
    proposal a person a rewiring. ``uniforms``: one per person."""
    rate = np.float64(chance_per_missing) * missing
    if rate_factor is not None:
        rate = rate * rate_factor
    return np.flatnonzero(uniforms < -np.expm1(-rate))


class Regions:
    """People (``members``, default everyone) listed region by region, to draw one of a
    given region or one of all."""

    def __init__(self, region: np.ndarray, members: np.ndarray | None = None,
                 regions: int | None = None):
        self.region = region
        ids = np.arange(region.shape[0]) if members is None else np.asarray(members)
        self.member = np.zeros(region.shape[0], bool)
        self.member[ids] = True
        counts = np.bincount(region[ids], minlength=regions or int(region.max(initial=0)) + 1)
        self.order = ids[np.argsort(region[ids], kind="stable")]
        self.start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.count = counts

    def pick(self, r: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """One member of each region ``r``, by the uniforms (-1 where it has none)."""
        if self.order.shape[0] == 0:
            return np.full(r.shape[0], -1, np.int64)
        count = self.count[r]
        at = self.start[r] + (uniforms * count).astype(np.int64)
        return np.where(count > 0, self.order[np.minimum(at, self.order.shape[0] - 1)], -1)

    def pick_any(self, uniforms: np.ndarray) -> np.ndarray:
        """One member of any region, by the uniforms (-1 if there is none)."""
        m = self.order.shape[0]
        if m == 0:
            return np.full(uniforms.shape[0], -1, np.int64)
        return self.order[np.minimum((uniforms * m).astype(np.int64), m - 1)]


def open_to_friends(network: Network, region: np.ndarray,
                    room_factor: np.ndarray | None = None) -> Regions:
    """Those with room for a friend, by region: the strangers a searcher can meet (those
    looking for friends meet others who look: clubs, courses, apps)."""
    room = has_room(network, np.arange(network.n), room_factor)
    return Regions(region, np.flatnonzero(room), int(region.max(initial=0)) + 1)


def meet(network: Network, who: np.ndarray, g: np.ndarray, strangers: Regions,
         friend_of_friend_share: float, same_region_share: float) -> np.ndarray:
    """Whom each of ``who`` meets: with ``friend_of_friend_share`` a friend of a friend
    (a friend at random, then one of theirs: triadic closure), else one of ``strangers``
    (e.g. :func:`open_to_friends`) of their own region with ``same_region_share``, else of
    any region. Those whose friend of a friend is not among ``strangers`` (has no room)
    meet a stranger instead. ``g``: uniforms, shape (5, len(who)). May return ``who``
    itself, a friend already, or -1 (nobody met): no tie then."""
    deg, ptr, idx = network.degree, network.indptr, network.indices
    friend = np.full(who.shape[0], -1, np.int64)
    has = deg[who] > 0
    pos = ptr[who[has]] + (g[0, has] * deg[who[has]]).astype(np.int64)
    friend[has] = idx[pos]
    fof = np.full(who.shape[0], -1, np.int64)
    via = np.flatnonzero(has)
    via = via[deg[friend[via]] > 0]
    f = friend[via]
    fof[via] = idx[ptr[f] + (g[1, via] * deg[f]).astype(np.int64)]
    stranger = np.where(g[2] < same_region_share,
                        strangers.pick(strangers.region[who], g[3]), strangers.pick_any(g[3]))
    closes = (g[4] < friend_of_friend_share) & (fof >= 0)
    closes[closes] = strangers.member[fof[closes]]
    return np.where(closes, fof, stranger)


def within_room(a: np.ndarray, b: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Which of the proposed ties ``a``-``b`` (in order) fit: a person takes new ties, in
    the order proposed, only while they have room (``missing`` friends, rounded up); a
    tie needs room at both ends. (Counted over all the proposals a person is in, kept
    or not: a little conservative.)"""
    k = a.shape[0]
    ends = np.concatenate([a, b])
    proposal = np.concatenate([np.arange(k), np.arange(k)])
    order = np.lexsort((proposal, ends))
    sorted_ends = ends[order]
    first = np.ones(2 * k, bool)
    first[1:] = sorted_ends[1:] != sorted_ends[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(2 * k), 0))
    rank = np.empty(2 * k, np.int64)
    rank[order] = np.arange(2 * k) - start
    fits = rank < np.ceil(missing[ends])
    return fits[:k] & fits[k:]


def form_ties(network: Network, who: np.ndarray, rng: np.random.Generator,
              region: np.ndarray, *, friend_of_friend_share: float, same_region_share: float,
              accept=None, today: int = 0) -> int:
    """Give each of ``who`` (at most) one new tie by the formation rule, e.g. newcomers
    who need friends now: each meets someone (:func:`meet`, strangers among those with
    room, :func:`open_to_friends`); the tie forms if the other has room (:func:`has_room`)
    and, where ``accept`` is given (a function of the pairs' ids returning each pair's
    chance), by that chance; nobody takes more ties than they have room for
    (:func:`within_room`). ``who`` need room themselves: set the capacity of a newcomer
    (``network.capacity``) first. Call it again for more. Returns the number of ties
    formed."""
    who = np.asarray(who, np.int64)
    g = rng.random((6, who.shape[0]))
    b = meet(network, who, g[:5], open_to_friends(network, region), friend_of_friend_share,
             same_region_share)
    ok = (b >= 0) & (b != who)
    ok[ok] = has_room(network, b[ok])
    if accept is not None:
        ok[ok] = g[5, ok] < accept(who[ok], b[ok])
    a, b = who[ok], b[ok]
    fits = within_room(a, b, missing_friends(network))
    return network.add(a[fits], b[fits], today)


def _slice(indptr: np.ndarray, indices: np.ndarray,
           order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(slice offsets, friend ids) of the sliced form; see :meth:`Network._sliced`. The
    slices are filled by the threads, each a range of them."""
    n = order.shape[0]
    ptr = _slice_offsets(indptr, order)
    cols = np.empty(ptr[-1], np.uint32)  # (unsigned: see _slice_sums_part)
    slices = ptr.shape[0] - 1
    map_threads(lambda part: _slice_fill(indptr, indices, order, ptr, cols, *part),
                people_parts(slices, n), n)
    return ptr, cols


def _slice_sums(ptr: np.ndarray, cols: np.ndarray, order: np.ndarray,
                padded: np.ndarray) -> np.ndarray:
    """Each row's sum of ``padded`` over its friends, the slices cut into parts of about
    equal size that the threads take in turn."""
    n = order.shape[0]
    out = np.empty(n, padded.dtype)
    slices = ptr.shape[0] - 1
    # (a thread that starts late takes fewer; below PARALLEL_FROM people one thread sums
    # every row, in one call: the rows are the same however they are cut)
    parts = 4 * thread_count() if n >= threads.PARALLEL_FROM else 1
    bounds = np.searchsorted(ptr, np.arange(parts + 1) * (ptr[-1] / parts)).clip(0, slices)
    bounds[0], bounds[-1] = 0, slices
    map_threads(lambda c: _slice_sums_part(ptr, cols, order, padded, out, bounds[c],
                                           bounds[c + 1]), range(parts), n)
    return out


def _csr_update(indptr: np.ndarray, indices: np.ndarray, gone: tuple, added: tuple
                ) -> tuple[np.ndarray, np.ndarray]:
    """The CSR adjacency after removing the ties in ``gone`` and adding those in ``added``
    (each from :func:`_changes`), row by row in one sequential pass: the same arrays as
    :func:`_csr` of the new edge list. Rows are split among the threads (each row's place
    is known once the new offsets are)."""
    n = indptr.shape[0] - 1
    new_ptr = _updated_offsets(indptr, gone[0], added[0])
    out = np.empty(new_ptr[n], np.int32)
    map_threads(lambda part: _update_rows(indptr, indices, *gone, *added, new_ptr, out, *part),
                people_parts(n), n)
    return new_ptr, out


def _canonical(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ties ``u < v`` (no loops), sorted. (A sort and a comparison of
    neighbours: ``np.unique`` gives the same, but numpy >= 2.3 hashes first, which took
    73 of the 94 s of setting up 10^6 people; the temporaries are let go as they go. The
    stable sort (radix/timsort) is 3x faster than quicksort on the generators' keys, which
    come nearly sorted; equal keys are equal, so the order is the same.)"""
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    lo = np.minimum(u, v)
    hi = np.maximum(u, v)
    keep = lo != hi
    key = lo[keep]
    del lo
    key *= n
    key += hi[keep]
    del hi, keep
    key.sort(kind="stable")
    if key.shape[0] > 1:
        fresh = np.empty(key.shape[0], bool)
        fresh[0] = True
        np.not_equal(key[1:], key[:-1], out=fresh[1:])
        key = key[fresh]
        del fresh
    lo, hi = np.divmod(key, n)
    return lo.astype(np.int32), hi.astype(np.int32)


def small_world(n: int, mean_degree: float, p: float, rng: np.random.Generator) -> Network:
    """Watts-Strogatz: a ring where each links to k/2 on each side; ends rewired with p."""
    half = max(int(round(mean_degree / 2)), 0)
    if n < 2 or half == 0:
        return Network(n, np.empty(0, np.int64), np.empty(0, np.int64))
    half = min(half, (n - 1) // 2) or 1
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (u + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(u.shape[0]) < p
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    return Network(n, u, v)


def region_clustered(
    n: int,
    mean_degree: float,
    p: float,
    within: float,
    region: np.ndarray,
    rng: np.random.Generator,
) -> Network:
    """A small world laid out region by region; a rewired tie stays in the region with
    probability ``within``."""
    order = np.argsort(region, kind="stable")
    base = small_world(n, mean_degree, 0.0, rng)
    u, v = order[base.u], order[base.v]
    rewire = rng.random(u.shape[0]) < p
    idx = np.flatnonzero(rewire)
    counts = np.bincount(region, minlength=int(region.max()) + 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    r = region[u[idx]]
    same = order[starts[r] + (rng.random(idx.shape[0]) * counts[r]).astype(np.int64)]
    anywhere = rng.integers(0, n, size=idx.shape[0])
    v[idx] = np.where(rng.random(idx.shape[0]) < within, same, anywhere)
    return Network(n, u, v)


def scale_free(
    n: int, mean_degree: float, exponent: float, rng: np.random.Generator
) -> Network:
    """Chung-Lu graph with Pareto expected degrees: P(k) ~ k^-exponent."""
    if n < 2 or mean_degree <= 0:
        return Network(n, np.empty(0, np.int64), np.empty(0, np.int64))
    weights = (1.0 - rng.random(n)) ** (-1.0 / (exponent - 1.0))
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    m = int(round(n * mean_degree / 2))
    u = np.searchsorted(cdf, rng.random(m), side="right")
    v = np.searchsorted(cdf, rng.random(m), side="right")
    return Network(n, np.minimum(u, n - 1), np.minimum(v, n - 1))


def read_edgelist(path: Path, n: int) -> Network:
    """Two whitespace- or comma-separated integer columns of person ids in [0, n).

    Read only if a regular file under :data:`scoresim.limits.EDGELIST_MAX_BYTES`; an error
    names the line but never repeats the file's content (it may not be an edge list)."""
    from scoresim.limits import EDGELIST_MAX_BYTES, decode, read_bytes

    text = decode(read_bytes(path, "edge list", EDGELIST_MAX_BYTES), path, "edge list")
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        cells = line.split()
        if len(cells) != 2 or not all(c.lstrip("-").isdigit() for c in cells):
            raise ScenarioError(
                f"{path}, line {number}: expected two integer person ids, got {len(cells)} "
                f"field{'s' if len(cells) != 1 else ''}"
                f"{'' if len(cells) != 2 else ' that are not both whole numbers'}."
            )
        a, b = int(cells[0]), int(cells[1])
        if not (0 <= a < n and 0 <= b < n):
            raise ScenarioError(
                f"{path}, line {number}: person ids must lie in [0, {n - 1}] for "
                f"people.count = {n}, got {a if not 0 <= a < n else b}."
            )
        pairs.append((a, b))
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return Network(n, arr[:, 0], arr[:, 1])


def make_network(
    cfg: NetworkConfig,
    n: int,
    region: np.ndarray,
    rng: np.random.Generator,
    base_dir: Path | None = None,
) -> Network:
    if cfg.kind == "small_world":
        return small_world(n, cfg.mean_degree, cfg.rewire_probability, rng)
    if cfg.kind == "region_clustered":
        return region_clustered(
            n, cfg.mean_degree, cfg.rewire_probability, cfg.within_region_share, region, rng
        )
    if cfg.kind == "scale_free":
        return scale_free(n, cfg.mean_degree, cfg.power_law_exponent, rng)
    path = Path(cfg.path or "")
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    return read_edgelist(path, n)
