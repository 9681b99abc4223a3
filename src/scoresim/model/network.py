"""The friendship network: undirected ties as two id arrays plus a CSR adjacency (M4, M6).

Generators are vectorised (no per-node Python loop): Watts-Strogatz small world (default),
a Chung-Lu graph with power-law expected degrees (scale free), a small world laid out by
region (region clustered), or an edge list read from a file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

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
from scoresim.scenario.schema import NetworkConfig


class Network:
    """Undirected simple graph on ``n`` people; ``u < v`` for every stored edge."""

    def __init__(self, n: int, u: np.ndarray, v: np.ndarray):
        self.n = int(n)
        self.u, self.v = _canonical(self.n, u, v)
        self.reference = False  # True: sums by scipy.sparse, not the compiled kernels
        self._build()
        self._sliced()  # (after later changes: again on first use)

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

    def neighbour_sum(self, x: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``x`` over each person's friends (float32 at least; in the order of the
        sorted friend ids, so the result does not depend on the number of threads);
        ``where``: count only the friends where it is true."""
        x = np.asarray(x)
        dtype = np.result_type(np.float32, x.dtype)
        if self.reference:  # the adjacency matrix times x: each row summed in id order
            values = x if where is None else np.where(where, x, 0)
            return self.adjacency.astype(dtype) @ values.astype(dtype)
        ptr, cols, order = self._sliced()
        padded = np.empty(self.n + 1, dtype)  # index n: the padding's zero
        if where is None:
            padded[: self.n] = x
            padded[self.n] = 0
        else:
            _pad_where(x, where, padded)
        return _slice_sums(ptr, cols, order, padded)

    def add_to_friends(self, total: np.ndarray, who: np.ndarray, value: np.ndarray) -> None:
        """``total[f] += value[i]`` for every friend ``f`` of ``who[i]``, in place: the
        change of a neighbour sum when a few people's values change."""
        if self.reference:
            rows = [self.neighbours(p) for p in who]
            np.add.at(total, np.concatenate(rows + [np.empty(0, np.int64)]).astype(np.int64),
                      np.repeat(np.asarray(value), [r.size for r in rows]))
            return
        _scatter_to_friends(self.indptr, self.indices, total, who, value)

    def neighbours(self, person: int) -> np.ndarray:
        return self.indices[self.indptr[person] : self.indptr[person + 1]]

    def remove(self, drop: np.ndarray) -> int:
        """Remove the edges where ``drop`` (a mask over edges) is true."""
        return self.update(drop, np.empty(0, np.int64), np.empty(0, np.int64))[0]

    def add(self, u: np.ndarray, v: np.ndarray) -> int:
        """Add ties (duplicates and self-ties are ignored); returns how many were new."""
        return self.update(np.zeros(self.n_edges, bool), u, v)[1]

    def update(self, drop: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[int, int]:
        """Remove the edges masked by ``drop``, then add ties ``u``-``v``; one rebuild.
        Returns (removed, added)."""
        removed = np.count_nonzero(drop)
        nu, nv = _canonical(self.n, u, v)
        if not removed and not nu.size:
            return 0, 0
        gone_u, gone_v = self.u[drop], self.v[drop]
        self.u, self.v, new = _merge_edges(self.u, self.v, drop, nu, nv)
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
    parts = 4 * thread_count()  # (a thread that starts late takes fewer)
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
