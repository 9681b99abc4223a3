"""The memory layout of the engine's arrays (issue 17): the record log's estimate in
limits.py against the arrays a run holds, and compact layouts that keep results."""

from __future__ import annotations

import numpy as np
import pytest

from scoresim import Sim
from scoresim.limits import record_log_bytes


def _log_bytes(log) -> float:
    """Bytes per person of a record log's arrays (its rings, sparse parts included)."""
    total = 0
    for value in vars(log).values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
    total += log.ring.rows.nbytes + sum(p.nbytes + v.nbytes for p, v in log.ring.clean)
    total += sum(p.nbytes + v.nbytes for p, v in log.ring_negative.rows)
    for store in (log.later, log.later_negative):
        total += sum(p.nbytes + a.nbytes for p, a in store.values())
    for acc in log.fading.values():
        total += acc.nbytes
    return total / log.n


@pytest.mark.parametrize("preset", ["seed", "sesame", "government-pilot"])
def test_the_record_log_estimate_matches_its_arrays(preset):
    sim = Sim(preset, people=3000, days=200)
    for _ in range(200):
        sim.step()
    for sch in sim.schemes.values():
        if sch.log is None:
            continue
        # (a weighted level of factors keeps one more log per factor with rules)
        est = record_log_bytes(sch.cfg)
        got = sum(_log_bytes(log) for log in sch.logs)
        # (the sparse parts grow as records accumulate: the estimate allows for more)
        assert 0.9 * got - 4 <= est <= 1.1 * got + 16, (sch.name, est, got)


def test_clean_ring_entries_are_kept_only_where_they_differ():
    """The ring holds one float32 per bucket and person with errors; the clean entries,
    sparse, cover only the people with a misattributed record in force."""
    sim = Sim("seed", people=3000, days=200)
    for _ in range(200):
        sim.step()
    for sch in sim.schemes.values():
        ring = sch.log.ring
        assert ring.rows.shape == (ring.buckets, sch.n) and ring.rows.dtype == np.float32
        differing = sum(p.size for p, _ in ring.clean)
        assert differing < 0.1 * ring.buckets * sch.n
        for j in range(ring.buckets):
            people, values = ring.clean[j]
            assert (np.diff(people) > 0).all()
            errors = ring.rows[j][people]
            assert (errors.view(np.int32) != values.view(np.int32)).all()


def test_no_repair_arrays_where_repair_is_off():
    sim = Sim("seed", people=500, days=5)
    for sch in sim.schemes.values():
        log = sch.log
        if not log.repairable:
            assert log.n_negative is None and log.repair_due is None
            assert log.ring_negative.buckets == 0


def test_the_observers_caches_kept_slot_by_slot_equal_a_rebuild():
    """Observer.reset for the changed slots only (newcomers, changes of stage) keeps the
    same caches as rebuilding them for everyone."""
    sim = Sim("seed", people=2000, days=400)
    for _ in range(400):
        sim.step()
    assert sim.outcomes.data["people_entered"][:400].sum() > 0
    obs = sim.observer
    kept = {k: np.array(getattr(obs, k)) for k in ("critics", "working", "desired",
                                                  "above_tolerance")}
    share, degree = obs.compliant_share, dict(obs._degree_stats())
    obs.refresh()
    for k, v in kept.items():
        np.testing.assert_array_equal(v, getattr(obs, k))
    assert obs.compliant_share == share
    assert obs._degree_stats() == degree
