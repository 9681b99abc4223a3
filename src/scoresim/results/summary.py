"""What the report shows of the people and the network at the end of a run, kept small.

The report's end-of-run pictures and tables (score and opinion histograms, tier counts, the
gaps between income groups and regions, a neighbourhood of the network) are computed here
once, from the engine's arrays (numpy ``bincount`` and ``histogram``, never pandas) and from
the adjacency (CSR rows of a few hundred people, never a graph of every tie). The result is
a plain dict of a few kilobytes, saved in the run folder as ``summary.json``; the report of
a run of 10^8 people reads it and not the people and network tables.

A run folder written before ``summary.json`` existed is summarised from its parquet files,
one column at a time (:func:`summarise_folder`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.declarations.categories import ENROLMENT_STATES, JOBS

if TYPE_CHECKING:
    from scoresim.scenario.schema import Scenario
    from scoresim.sim import Sim

#: Bumped when the summary's keys change (a report reads only a version it knows).
SUMMARY_VERSION = 1
SCORE_BINS = 60
OPINION_EDGES = np.linspace(-1, 1, 41)
INCOME_BANDS = ("poor (0-2)", "middle (3-6)", "rich (7-9)")
#: The neighbourhood drawn in the report: a critic, their friends, up to
#: :data:`FRIENDS_OF_FRIENDS` friends of each (lowest ids first), at most
#: :data:`NEIGHBOURHOOD_MAX` people.
NEIGHBOURHOOD_MAX = 200
FRIENDS_OF_FRIENDS = 8

#: A column by name: the whole column as a numpy array (categories as int codes).
Column = Callable[[str], np.ndarray]


def _edges_list(values: np.ndarray) -> list[float]:
    return [float(x) for x in values]


def _group_rows(codes: np.ndarray, labels: list[str] | tuple[str, ...], col: Column,
                good_job: np.ndarray) -> list[dict[str, Any]]:
    k = len(labels)
    people = np.bincount(codes, minlength=k)[:k]
    sums = {name: np.bincount(codes, weights=col(column), minlength=k)[:k]
            for name, column in (("sanctions", "sanctions"), ("wrongful", "sanctions_wrongful"),
                                 ("association", "sanctions_association"))}
    good = np.bincount(codes, weights=good_job, minlength=k)[:k]
    return [{"group": str(labels[i]), "people": int(people[i]),
             **{name: int(round(s[i])) for name, s in sums.items()},
             "good_job": float(good[i] / people[i])}
            for i in range(k) if people[i] > 0]


def neighbourhood(indptr: np.ndarray, indices: np.ndarray, centre: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``centre``, their friends, up to :data:`FRIENDS_OF_FRIENDS` friends of each (the
    lowest ids), the first :data:`NEIGHBOURHOOD_MAX` of them by id; and every tie among
    them as pairs ``a < b`` of ids. Reads the adjacency rows of these people only."""

    def friends(x: int) -> np.ndarray:
        return indices[indptr[x]:indptr[x + 1]]

    first = [centre, *friends(centre).tolist()]
    nodes = set(first)
    for friend in first:
        nodes.update(friends(friend)[:FRIENDS_OF_FRIENDS].tolist())
    keep = np.array(sorted(nodes)[:NEIGHBOURHOOD_MAX], np.int64)
    a, b = [], []
    for x in keep.tolist():
        mine = friends(x)
        inside = mine[(mine > x) & np.isin(mine, keep)]
        a += [x] * inside.shape[0]
        b += inside.tolist()
    return keep, np.array(a, np.int64), np.array(b, np.int64)


def summarise(scenario: Scenario, n: int, col: Column,
              adjacency: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
    """The summary of the people at the end (``col``: their columns by name, as in the
    people table; categories as codes) and of the network (``adjacency``: CSR ``indptr,
    indices``; None: not known)."""
    out: dict[str, Any] = {"version": SUMMARY_VERSION, "people": int(n)}
    private, expressed = col("private_opinion"), col("expressed_opinion")
    out["opinions"] = {
        "edges": _edges_list(OPINION_EDGES),
        "private": np.histogram(private, OPINION_EDGES)[0].tolist(),
        "expressed": np.histogram(expressed, OPINION_EDGES)[0].tolist(),
        "private_mean": float(np.mean(private, dtype=np.float64)) if n else float("nan"),
        "expressed_mean": float(np.mean(expressed, dtype=np.float64)) if n else float("nan"),
        "private_below_0": float(np.count_nonzero(private < 0) / max(n, 1)),
        "expressed_below_0": float(np.count_nonzero(expressed < 0) / max(n, 1)),
    }
    none = ENROLMENT_STATES.index("none")
    scores: dict[str, Any] = {}
    for name, scheme in scenario.schemes.items():
        score = col(f"{name}_score")
        scored = score[col(f"{name}_state") != none]
        edges = np.linspace(scheme.min_score, scheme.max_score, SCORE_BINS + 1)
        entry: dict[str, Any] = {
            "edges": _edges_list(edges),
            "counts": np.histogram(np.clip(scored, edges[0], edges[-1]), edges)[0].tolist(),
            "scored": int(scored.shape[0]),
            "p10_p50_p90": (np.percentile(scored, [10, 50, 90]).tolist()
                            if scored.shape[0] else None),
            "tier_bounds": [float(t.min) for t in scheme.tiers.values()],
        }
        if scheme.tiers:
            names = sorted(scheme.tiers, key=lambda t: scheme.tiers[t].min)
            mins = np.array([scheme.tiers[t].min for t in names])
            tier = (np.searchsorted(mins, scored, side="right") - 1).clip(0)
            counts = np.bincount(tier, minlength=len(names))
            entry["tiers"] = {t: int(c) for t, c in zip(names, counts, strict=True)}
        scores[name] = entry
        del scored
    out["scores"] = scores
    good_job = col("job") == JOBS.index("good")
    income = col("income_decile")
    band = (income > 2).astype(np.int64) + (income > 6)
    out["groups"] = {
        "income": _group_rows(band, INCOME_BANDS, col, good_job),
        "region": _group_rows(col("region").astype(np.int64), list(scenario.people.regions),
                              col, good_job),
    }
    out["neighbourhood"] = None
    if adjacency is not None and n:
        indptr, indices = adjacency
        degree = np.diff(indptr)
        critics = np.flatnonzero((private < scenario.people.critic_below) & (degree > 0))
        pool = critics if critics.size else np.flatnonzero(degree > 0)
        if pool.size:
            centre = int(pool[pool.size // 2])
            keep, a, b = neighbourhood(indptr, indices, centre)
            colour = f"{next(iter(scenario.schemes))}_score" if scenario.schemes \
                else "expressed_opinion"
            out["neighbourhood"] = {
                "centre": centre, "friends": int(degree[centre]), "colour": colour,
                "people": keep.tolist(), "a": a.tolist(), "b": b.tolist(),
                "values": [float(x) for x in col(colour)[keep]],
            }
    return out


def summarise_sim(sim: Sim) -> dict[str, Any]:
    """The summary of a simulation where it stands (its arrays, read in place)."""
    from scoresim.results.run_folder import people_columns

    columns = people_columns(sim)

    def col(name: str) -> np.ndarray:
        value = columns[name]
        return value[0] if isinstance(value, tuple) else value

    net = sim.network
    return summarise(sim.scenario, sim.people.n, col, (net.indptr, net.indices))


def _codes(column, labels: list[str] | tuple[str, ...]) -> np.ndarray:
    """A parquet column (dictionary-encoded or plain strings) as codes into ``labels``."""
    import pyarrow as pa

    parts = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            lookup = np.array([labels.index(x) for x in chunk.dictionary.to_pylist()],
                              np.int64)
            parts.append(lookup[chunk.indices.to_numpy(zero_copy_only=False)])
        else:
            lookup_map = {x: i for i, x in enumerate(labels)}
            parts.append(np.array([lookup_map[x] for x in chunk.to_pylist()], np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def summarise_folder(scenario: Scenario, folder: Path) -> dict[str, Any] | None:
    """The summary of a run folder without ``summary.json`` (written before it existed),
    from its people table (one column read at a time) and network table (two columns);
    None without a people table."""
    import pyarrow.parquet as pq

    from scoresim.declarations.categories import AGE_BANDS

    people = folder / "people.parquet"
    if not people.is_file():
        return None
    labels = {"region": list(scenario.people.regions), "job": JOBS, "age_band": AGE_BANDS}
    labels.update({f"{name}_state": ENROLMENT_STATES for name in scenario.schemes})
    n = pq.ParquetFile(people).metadata.num_rows

    def col(name: str) -> np.ndarray:
        column = pq.read_table(people, columns=[name]).column(0)
        if name in labels:
            return _codes(column, labels[name])
        return column.to_numpy()

    adjacency = None
    if (folder / "network.parquet").is_file():
        ties = pq.read_table(folder / "network.parquet", columns=["a", "b"])
        a = ties.column("a").to_numpy().astype(np.int64)
        b = ties.column("b").to_numpy().astype(np.int64)
        del ties
        rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
        del a, b
        order = np.lexsort((cols, rows))
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        adjacency = (indptr, cols[order].astype(np.int32))
    return summarise(scenario, n, col, adjacency)
