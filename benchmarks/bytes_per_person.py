"""Where the bytes per person go: every numpy array the simulation holds after a run, by
owner (people, each scheme, network, adaptation, sanctions, ...), in bytes per person.

    .venv/bin/python benchmarks/bytes_per_person.py --people 100000 --days 30

Walks the attributes of the Sim and of its parts (objects, dicts, lists and tuples, down to
six levels: a record log's sparse ring rows too), counting each array once (views count
for their base array only).
"""

from __future__ import annotations

import argparse

import numpy as np


def arrays(obj, prefix: str, seen: set[int], depth: int = 0):
    if isinstance(obj, np.ndarray):
        base = obj.base if isinstance(obj.base, np.ndarray) else obj  # (numba's own: not)
        if id(base) not in seen:
            seen.add(id(base))
            yield prefix, base
        return
    if depth > 5:
        return
    if isinstance(obj, dict):
        items = [(str(k), v) for k, v in obj.items()]
    elif isinstance(obj, list | tuple):
        items = [(str(i), v) for i, v in enumerate(obj)]
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("scoresim"):
        items = list(vars(obj).items())
    else:
        return
    for key, value in items:
        if key == "sim":  # (a part's link back to the simulation)
            continue
        yield from arrays(value, f"{prefix}.{key}", seen, depth + 1)


def main() -> None:
    from scoresim import Sim

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--scenario", default="seed")
    ap.add_argument("--all", action="store_true", help="list every array, not only owners")
    args = ap.parse_args()
    sim = Sim(args.scenario, people=args.people, days=args.days)
    sim.run()
    n = sim.people.n
    seen: set[int] = set()
    owners: dict[str, float] = {}
    rows = []
    for name, value in vars(sim).items():
        if name in ("scenario", "streams"):
            continue
        for path, arr in arrays(value, name, seen):
            per = arr.nbytes / n
            owner = path.split(".")[0]
            if owner == "schemes":
                owner = ".".join(path.split(".")[:2])
            owners[owner] = owners.get(owner, 0.0) + per
            rows.append((per, path, arr.dtype, arr.shape))
    if args.all:
        for per, path, dtype, shape in sorted(rows, key=lambda r: -r[0]):
            if per >= 0.5:
                print(f"{per:8.1f}  {path:55s} {dtype!s:8s} {shape}")
        print()
    print(f"{'owner':32s} {'bytes/person':>12s}")
    for owner, per in sorted(owners.items(), key=lambda kv: -kv[1]):
        print(f"{owner:32s} {per:12.1f}")
    print(f"{'all arrays':32s} {sum(owners.values()):12.1f}   (mean degree "
          f"{2 * sim.network.n_edges / n:.2f})")


if __name__ == "__main__":
    main()
