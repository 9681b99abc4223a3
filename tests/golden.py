"""The golden fingerprint of small runs: final scores, enrolment, ties, jobs, and the outcome
table. ``python tests/golden.py`` prints it as JSON (tests/data/golden.json was written by
the engine before it was compiled, and the compiled engine must reproduce it)."""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np

RUNS = [("seed", 3000, 240, 3), ("sesame", 2000, 200, 5), ("government-pilot", 2000, 200, 7)]


def digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def fingerprint(preset: str, people: int, days: int, seed: int) -> dict:
    from scoresim import Sim

    sim = Sim(preset, seed=seed, people=people, days=days)
    sim.run()
    state = {f"{name}.{attr}": digest(getattr(sch, attr))
             for name, sch in sim.schemes.items()
             for attr in ("b", "s", "b_clean", "s_clean", "state", "knowledge")}
    state.update({
        "ties": digest(np.stack([sim.network.u, sim.network.v])),
        "job": digest(sim.people.job), "income": digest(sim.people.income_decile),
        "expressed": digest(sim.people.expressed_opinion),
        "blacklisted_until": digest(sim.people.blacklisted_until),
    })
    outcomes = {k: [None if np.isnan(x) else float(x) for x in v]
                for k, v in sim.outcomes.data.items()}
    return {"state": state, "outcomes": outcomes}


if __name__ == "__main__":
    json.dump({f"{p}/{n}/{d}/{s}": fingerprint(p, n, d, s) for p, n, d, s in RUNS},
              sys.stdout, separators=(",", ":"))
