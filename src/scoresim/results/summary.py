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


#: People summarised at a time: the temporaries of a chunk (group codes, weights as
#: float64) are a few tens of MB, not bytes per person of the whole population.
CHUNK = 1 << 22


def _chunks(n: int):
    for lo in range(0, n, CHUNK):
        yield slice(lo, min(lo + CHUNK, n))


def _group_rows(counts: dict[str, np.ndarray], labels: list[str] | tuple[str, ...]
                ) -> list[dict[str, Any]]:
    people = counts["people"]
    return [{"group": str(labels[i]), "people": int(people[i]),
             **{name: int(round(counts[name][i]))
                for name in ("sanctions", "wrongful", "association")},
             "good_job": float(counts["good_job"][i] / people[i])}
            for i in range(len(labels)) if people[i] > 0]


def histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]`` (bins ``[e_i, e_i+1)``, the last closed; values
    outside and NaN not counted), by a binary search of each value among the few edges
    instead of numpy's sort of the values: the same comparisons, so the same counts."""
    k = edges.shape[0] - 1
    at = np.searchsorted(edges, values, side="right")  # (edges <= value)
    at[values == edges[-1]] = k  # (the last bin is closed)
    inside = (at >= 1) & (at <= k)
    return np.bincount(at[inside] - 1, minlength=k)


def _group_sums(n: int, col: Column, regions: list[str]) -> dict[str, list]:
    """People, sanctions (all, wrongful, by association) and good jobs by income band and
    by region, summed chunk by chunk."""
    good = JOBS.index("good")
    sums = {key: {name: np.zeros(k) for name in ("people", "sanctions", "wrongful",
                                                 "association", "good_job")}
            for key, k in (("income", len(INCOME_BANDS)), ("region", len(regions)))}
    weights = (("sanctions", "sanctions"), ("wrongful", "sanctions_wrongful"),
               ("association", "sanctions_association"))
    for part in _chunks(n):
        income = col("income_decile")[part]
        codes = {"income": (income > 2).astype(np.intp) + (income > 6),
                 "region": col("region")[part].astype(np.intp)}
        good_job = col("job")[part] == good
        for key, code in codes.items():
            into = sums[key]
            k = len(into["people"])
            into["people"] += np.bincount(code, minlength=k)[:k]
            into["good_job"] += np.bincount(code, weights=good_job, minlength=k)[:k]
            for name, column in weights:
                into[name] += np.bincount(code, weights=col(column)[part], minlength=k)[:k]
    return {"income": _group_rows(sums["income"], INCOME_BANDS),
            "region": _group_rows(sums["region"], regions)}


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
    hist = {"private": np.zeros(len(OPINION_EDGES) - 1, np.int64),
            "expressed": np.zeros(len(OPINION_EDGES) - 1, np.int64)}
    totals = dict.fromkeys(("private", "expressed", "private_below_0", "expressed_below_0"),
                           0.0)
    for part in _chunks(n):
        for name, values in (("private", private[part]), ("expressed", expressed[part])):
            hist[name] += histogram(values, OPINION_EDGES)
            totals[name] += float(np.sum(values, dtype=np.float64))
            totals[f"{name}_below_0"] += int(np.count_nonzero(values < 0))
    out["opinions"] = {
        "edges": _edges_list(OPINION_EDGES),
        "private": hist["private"].tolist(), "expressed": hist["expressed"].tolist(),
        "private_mean": totals["private"] / n if n else float("nan"),
        "expressed_mean": totals["expressed"] / n if n else float("nan"),
        "private_below_0": totals["private_below_0"] / max(n, 1),
        "expressed_below_0": totals["expressed_below_0"] / max(n, 1),
    }
    none = ENROLMENT_STATES.index("none")
    scores: dict[str, Any] = {}
    for name, scheme in scenario.schemes.items():
        score, state = col(f"{name}_score"), col(f"{name}_state")
        edges = np.linspace(scheme.min_score, scheme.max_score, SCORE_BINS + 1)
        names = sorted(scheme.tiers, key=lambda t: scheme.tiers[t].min)
        mins = np.array([scheme.tiers[t].min for t in names])
        counts = np.zeros(SCORE_BINS, np.int64)
        tiers = np.zeros(len(names), np.int64)
        for part in _chunks(n):
            scored = score[part][state[part] != none]
            counts += histogram(np.clip(scored, edges[0], edges[-1]), edges)
            if names:
                tier = (np.searchsorted(mins, scored, side="right") - 1).clip(0)
                tiers += np.bincount(tier, minlength=len(names))
        everyone = score[state != none]  # (one copy of the scored people's scores)
        entry: dict[str, Any] = {
            "edges": _edges_list(edges),
            "counts": counts.tolist(),
            "scored": int(everyone.shape[0]),
            "p10_p50_p90": (np.percentile(everyone, [10, 50, 90], overwrite_input=True)
                            .tolist() if everyone.shape[0] else None),
            "tier_bounds": [float(t.min) for t in scheme.tiers.values()],
        }
        del everyone
        if names:
            entry["tiers"] = {t: int(c) for t, c in zip(names, tiers, strict=True)}
        scores[name] = entry
    out["scores"] = scores
    out["groups"] = _group_sums(n, col, list(scenario.people.regions))
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
    p, sanctions = sim.people, sim.sanctions
    columns: dict[str, np.ndarray] = {
        "private_opinion": p.private_opinion, "expressed_opinion": p.expressed_opinion,
        "income_decile": p.income_decile, "region": p.region, "job": p.job,
        "sanctions": sanctions.received, "sanctions_wrongful": sanctions.received_wrongful,
        "sanctions_association": sanctions.received_association,
    }
    for name, sch in sim.schemes.items():
        columns[f"{name}_score"], columns[f"{name}_state"] = sch.s, sch.state
    net = sim.network
    return summarise(sim.scenario, p.n, columns.__getitem__, (net.indptr, net.indices))


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

    read: dict[str, np.ndarray] = {}

    def col(name: str) -> np.ndarray:  # (each column read once, when first asked for)
        if name not in read:
            column = pq.read_table(people, columns=[name]).column(0)
            read[name] = _codes(column, labels[name]) if name in labels \
                else column.to_numpy()
        return read[name]

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
