"""The compiled kernels against plain numpy versions of the same computation."""

import sys
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from scoresim import Sim
from scoresim.declarations.categories import ENROLLED, NOT_ENROLLED, OPTED_OUT
from scoresim.engine import threads
from scoresim.engine.kernels.sanctions import _ongoing
from scoresim.engine.rng import Streams, chunked_uniforms, pcg64_state, pcg64_store
from scoresim.engine.sampling import (
    poisson_from_uniform,
    poisson_nonzero_pcg,
    poisson_nonzero_product,
)
from scoresim.model.adaptation import strategic_dissent
from scoresim.model.network import Network, scale_free, small_world
from scoresim.results.outcomes import (
    _people_summary,
    _scheme_counts,
    _scheme_sums,
    _weighted_sums,
    histogram_stats,
    stats_from_histogram,
)

HERE = Path(__file__).parent


def numpy_poisson(u, lam):
    """The pre-compiled inversion, vectorised over people."""
    lam = np.asarray(lam, dtype=np.float64)
    p = np.exp(-lam)
    count = np.zeros(u.shape, dtype=np.int32)
    live = np.flatnonzero(u > p)
    cdf, pk, k = p[live], p[live], 0
    while live.size:
        k += 1
        pk = pk * lam[live] / k
        cdf = cdf + pk
        count[live] = k
        more = (u[live] > cdf) & (pk > 1e-15)
        live, cdf, pk = live[more], cdf[more], pk[more]
    return count


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_with_factors_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    n = 200_000
    u = rng.random(n)
    f1 = (rng.random(n) * 3).astype(dtype)
    f2 = rng.random(n).astype(np.float32)
    for base, factors in [(0.4, []), (0.4, [f1]), (0.05, [f1, f2]), (2.5, [f2])]:
        rate = base
        for f in factors:
            rate = rate * f  # numpy's own types and order
        expected = numpy_poisson(u, np.broadcast_to(rate, (n,)))
        who, count = poisson_nonzero_product(u, base, factors)
        np.testing.assert_array_equal(who, np.flatnonzero(expected))
        np.testing.assert_array_equal(count, expected[expected > 0])
    assert expected.max() >= 5  # the tail was exercised
    np.testing.assert_array_equal(poisson_from_uniform(u, f1), numpy_poisson(u, f1))


def test_compiled_pcg64_draws_the_generators_numbers():
    n = 100_003
    rng = np.random.default_rng(3)
    f1 = (rng.random(n) * 2).astype(np.float32)
    for seed in range(3):
        gen = Streams(seed).gen("behaviour.comment", 5)
        twin = Streams(seed).gen("behaviour.comment", 5)
        state = pcg64_state(gen)
        who, count = poisson_nonzero_pcg(state, n, 0.3, [f1])
        pcg64_store(gen, state)
        u = twin.random(n)
        ref_who, ref_count = poisson_nonzero_product(u, 0.3, [f1])
        np.testing.assert_array_equal(who, ref_who)
        np.testing.assert_array_equal(count, ref_count)
        # the generator goes on where the compiled loop stopped
        np.testing.assert_array_equal(gen.random(10), twin.random(10))
    buffered = np.random.default_rng(0)
    buffered.integers(0, 2**32, dtype=np.uint32)  # a 32-bit half is kept for later
    assert pcg64_state(buffered) is None


def test_chunked_uniforms_are_the_generators_numbers():
    n = 3 * (1 << 16) + 17
    whole = np.random.default_rng(4).random(n)
    gen = np.random.default_rng(4)
    parts = [u.copy() for _, u in chunked_uniforms(gen, n)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("threaded", [False, True])
def test_csr_matches_scipy_and_merge_matches_sets(monkeypatch, threaded):
    if threaded:  # (rows of the update and slices of the sliced form split between two)
        monkeypatch.setattr(threads, "PARALLEL_FROM", 0)
        monkeypatch.setenv("SCORESIM_THREADS", "2")
    rng = np.random.default_rng(1)
    net = small_world(5000, 8, 0.3, rng)
    rows = np.concatenate([net.u, net.v])
    cols = np.concatenate([net.v, net.u])
    ref = sp.csr_array((np.ones(rows.size, np.float32), (rows, cols)), shape=(5000, 5000))
    ref.sort_indices()
    np.testing.assert_array_equal(net.indptr, ref.indptr)
    np.testing.assert_array_equal(net.indices, ref.indices)
    x = rng.random(5000).astype(np.float32) * 900
    np.testing.assert_array_equal(net.neighbour_sum(x), ref @ x)

    before = set(zip(net.u.tolist(), net.v.tolist(), strict=True))
    drop = rng.random(net.n_edges) < 0.2
    dropped = {e for e, d in zip(zip(net.u.tolist(), net.v.tolist(), strict=True), drop,
                                 strict=True) if d}
    a, b = rng.integers(0, 5000, 3000), rng.integers(0, 5000, 3000)
    removed, added = net.update(drop, a, b)
    new = {(min(x, y), max(x, y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)
           if x != y}
    after = set(zip(net.u.tolist(), net.v.tolist(), strict=True))
    assert after == (before - dropped) | new
    assert removed == len(dropped) and added == len(new - (before - dropped))
    assert np.all(np.diff(net.u.astype(np.int64) * 5000 + net.v) > 0)  # sorted, unique
    # the adjacency, updated row by row, is the one built afresh from the new edge list
    fresh = Network(5000, net.u, net.v)
    for name in ("indptr", "indices", "degree"):
        np.testing.assert_array_equal(getattr(net, name), getattr(fresh, name))
    # ties removed and added again in one update, and a second update on the first
    again = np.zeros(net.n_edges, bool)
    again[:50] = True
    net.update(again, net.u[:50].copy(), net.v[:50].copy())
    net.update(rng.random(net.n_edges) < 0.1, rng.integers(0, 5000, 500),
               rng.integers(0, 5000, 500))
    fresh = Network(5000, net.u, net.v)
    for name in ("indptr", "indices", "degree"):
        np.testing.assert_array_equal(getattr(net, name), getattr(fresh, name))
    for got, want in zip(net._sliced(), fresh._sliced(), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(net.neighbour_sum(x), fresh.neighbour_sum(x))


def serial_row_sums(net, x):
    """Each person's float32 sum of x over friends, one addition at a time in the order of
    the sorted friend ids (the pure-numpy engine's order)."""
    out = np.zeros(net.n, np.float32)
    for i in range(net.n):
        acc = np.float32(0)
        for f in net.neighbours(i):
            acc = np.float32(acc + x[f])
        out[i] = acc
    return out


@pytest.mark.parametrize("kind", ["small_world", "scale_free", "empty", "star"])
def test_sliced_neighbour_sums_add_in_the_serial_order(kind):
    rng = np.random.default_rng(2)
    n = 3001  # not a whole number of slices
    if kind == "small_world":
        net = small_world(n, 12, 0.2, rng)
    elif kind == "scale_free":
        net = scale_free(n, 10, 2.2, rng)  # uneven degrees: rows sorted by degree
        assert net._sliced()[2].tolist() != list(range(n))
    elif kind == "empty":
        net = Network(n, np.empty(0, np.int64), np.empty(0, np.int64))
    else:
        net = Network(n, np.zeros(n - 1, np.int64), np.arange(1, n))
    x = (rng.random(n) * 1000 + 0.1234567).astype(np.float32)
    np.testing.assert_array_equal(net.neighbour_sum(x), serial_row_sums(net, x))
    np.testing.assert_array_equal(net.neighbour_sum(x.astype(np.float64)),
                                  net.adjacency @ x.astype(np.float64))


def test_friend_counts_follow_enrolment_changes_exactly():
    sim = Sim("seed", people=3000, days=5, seed=2)
    sch = sim.schemes["government"]
    net = sim.network
    rng = np.random.default_rng(0)
    for state in (ENROLLED, OPTED_OUT, NOT_ENROLLED, ENROLLED):
        sch.set_state(np.flatnonzero(rng.random(3000) < 0.3), state)
        expected = net.neighbour_sum(sch.scored.astype(np.float32))
        np.testing.assert_array_equal(sch.scored_friends(net), expected)


def test_strategic_dissent_matches_the_formula():
    rng = np.random.default_rng(3)
    n = 50_000
    d, beta, nu = rng.random(n), rng.random(n) * 2, rng.random(n)
    nu[:100] = 1.0
    psi = np.where(rng.random(n) < 0.2, 0.0, rng.random(n) * 3)
    tau = 0.3
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = beta - (1.0 - nu) * psi
        d_uni = (beta * tau + nu * psi) / denom
        uniform = np.where((d <= tau) | ((denom > 0) & (d >= d_uni)), d, tau)
        full = nu >= 1.0
        d_pro = np.where(psi > 0, (tau + (beta - nu * psi) / ((1.0 - nu) * psi)) / 2.0,
                         np.inf)
    free = d <= tau
    express = free | (full & (beta >= psi)) | (~full & (d <= d_pro))
    silenced = ~free & ((full & (beta < psi)) | (~full & (tau >= d_pro)))
    proportional = np.where(express, d, np.where(silenced, tau, d_pro))
    np.testing.assert_array_equal(strategic_dissent(d, beta, nu, tau, psi, "uniform"),
                                  uniform)
    np.testing.assert_array_equal(
        strategic_dissent(d, beta, nu, tau, psi, "proportional"), proportional)


def _scheme_summary(s, state, shadow_score, early, reliability, lo, nbins, tier_mins,
                    opted_any, friends):
    """A scheme's two summary passes, as Observer.row takes them, in one tuple."""
    hist, tiers, n_scored, enrolled, opted, shadow, early_n, late_n = _scheme_counts(
        s, state, shadow_score, early, lo, nbins, tier_mins, opted_any)
    score_sum, early_sum, late_sum, corr, moments = _scheme_sums(
        s, state, shadow_score, early, reliability, friends)
    return (hist, tiers, n_scored, score_sum, enrolled, opted, shadow, early_sum, early_n,
            late_sum, late_n, corr, moments)


def test_scheme_summary_matches_numpy():
    rng = np.random.default_rng(5)
    n = 20_000
    s = (rng.random(n) * 700 + 300).astype(np.float32)
    state = rng.choice(np.array([NOT_ENROLLED, ENROLLED, OPTED_OUT], np.int8), n)
    early = rng.random(n) < 0.4
    rel = rng.random(n).astype(np.float32)
    tier_mins = np.array([350, 550, 600, 650, 700], np.float32)
    opted = np.zeros(n, bool)
    friends = rng.integers(0, 30, n).astype(np.float32)
    (hist, tiers, n_scored, total, enrolled, n_opted, shadow, early_sum, early_n, late_sum,
     late_n, corr, moments) = _scheme_summary(s, state, True, early, rel, np.float32(350),
                                              601, tier_mins, opted, friends)
    scored = state != NOT_ENROLLED
    # the assortativity's moments, about the mean in float32, exactly as _weighted_sums
    centre = np.float32(total / n_scored)
    assert moments == _weighted_sums(s, centre, scored, friends)
    assert n_scored == scored.sum() and enrolled == (state == ENROLLED).sum()
    assert n_opted == shadow == (state == OPTED_OUT).sum()
    np.testing.assert_array_equal(opted, state == OPTED_OUT)
    expected = histogram_stats(s[scored], 350, 950)
    got = stats_from_histogram(hist, 350, 950, total)
    assert got == pytest.approx(expected, rel=1e-12)
    idx = (np.searchsorted(tier_mins, s[scored], side="right") - 1).clip(0)
    np.testing.assert_array_equal(tiers, np.bincount(idx, minlength=5))
    on = state == ENROLLED
    assert early_sum / early_n == pytest.approx(s[on & early].astype(float).mean(), rel=1e-12)
    assert late_sum / late_n == pytest.approx(s[on & ~early].astype(float).mean(), rel=1e-12)
    assert corr == pytest.approx(np.corrcoef(s[scored], rel[scored])[0, 1], rel=1e-9)


@pytest.mark.parametrize("n_regions", [1, 3, 12])
def test_people_summary_matches_numpy(n_regions):
    rng = np.random.default_rng(6)
    n = 5_000
    private = (rng.random(n) * 2 - 1).astype(np.float32)
    expressed = (private * rng.random(n)).astype(np.float32)
    above, working, wrongful = (rng.random((3, n)) < 0.5)
    dissent, desired = rng.random((2, n)).astype(np.float32)
    job = rng.integers(0, 3, n).astype(np.int8)
    income = rng.integers(0, 10, n).astype(np.int8)
    region = rng.integers(0, n_regions, n).astype(np.int16)
    until = rng.integers(-5, 15, n).astype(np.int32)
    (gap, censoring, working_n, good_n, rich_n, rich_good, poor_n, poor_good,
     region_working, region_good, listed, listed_wrongful) = _people_summary(
        private, expressed, above, dissent, desired, job, working, income, 6, 3, region,
        n_regions, until, wrongful, 7)
    assert gap == pytest.approx(np.abs(private - expressed).astype(float).sum(), rel=1e-12)
    assert censoring == (above & (dissent < desired - np.float32(1e-9))).sum()
    good = working & (job == 2)
    rich, poor = working & (income >= 6), working & (income <= 3)
    assert (working_n, good_n) == (working.sum(), good.sum())
    assert (rich_n, rich_good) == (rich.sum(), (rich & good).sum())
    assert (poor_n, poor_good) == (poor.sum(), (poor & good).sum())
    np.testing.assert_array_equal(region_working,
                                  np.bincount(region[working], minlength=n_regions))
    np.testing.assert_array_equal(region_good, np.bincount(region[good], minlength=n_regions))
    assert (listed, listed_wrongful) == ((until >= 7).sum(), ((until >= 7) & wrongful).sum())


def test_ongoing_effect_kernel_matches_numpy():
    rng = np.random.default_rng(8)
    n = 10_000
    meets, yesterday = rng.random((2, n)) < 0.4
    target = rng.random(n).astype(np.float32)  # (another rule's factor already in it)
    expected = np.where(meets, target * np.float32(0.7), target)
    new, reached = _ongoing(target, np.float32(0.7), meets, yesterday)
    np.testing.assert_array_equal(target, expected)
    np.testing.assert_array_equal(new, np.flatnonzero(meets & ~yesterday))
    assert reached
    assert not _ongoing(target, np.float32(0.7), np.zeros(n, bool), yesterday)[1]
    few = meets.copy()
    few[:50] = ~few[:50]  # (few start today: the other way of finding them)
    np.testing.assert_array_equal(_ongoing(target, np.float32(0.7), meets, few)[0],
                                  np.flatnonzero(meets & ~few))


def test_results_do_not_depend_on_the_number_of_threads(monkeypatch):
    """Every piece that runs on threads writes only its own result: one thread or two, the
    same run (threads are switched on here for a small population)."""
    monkeypatch.setattr(threads, "PARALLEL_FROM", 0)
    runs = []
    for count in ("1", "2"):
        monkeypatch.setenv("SCORESIM_THREADS", count)
        sim = Sim("seed", people=4000, days=60, seed=9)
        sim.run()
        runs.append(sim)
    one, two = runs
    for name in one.schemes:
        np.testing.assert_array_equal(one.schemes[name].s, two.schemes[name].s)
        np.testing.assert_array_equal(one.schemes[name].b_clean, two.schemes[name].b_clean)
    np.testing.assert_array_equal(one.network.u, two.network.u)
    for col, values in one.outcomes.data.items():
        np.testing.assert_array_equal(values, two.outcomes.data[col], err_msg=col)


@pytest.mark.parametrize("count", ["2", "3"])
def test_kinds_cut_into_pieces_draw_the_same_events(monkeypatch, count):
    """With few kinds of events, each kind is drawn in pieces of people on several threads
    (the generator advanced to each piece's first person): the same events as one
    thread drawing it whole."""
    monkeypatch.setattr(threads, "PARALLEL_FROM", 0)
    reference = HERE.parent / "benchmarks" / "reference.toml"
    runs = []
    for threads_now in ("1", count):
        monkeypatch.setenv("SCORESIM_THREADS", threads_now)
        sim = Sim(reference, people=3001, days=15, seed=4)
        sim.run()
        runs.append(sim)
    one, many = runs
    np.testing.assert_array_equal(one.schemes["score"].s, many.schemes["score"].s)
    for col, values in one.outcomes.data.items():
        np.testing.assert_array_equal(values, many.outcomes.data[col], err_msg=col)
    assert one.outcomes.data["critical_statements"].sum() > 0


def test_counter_uniforms_are_the_same_in_compiled_code():
    import numba

    from scoresim.engine.rng import counter_uniform

    @numba.njit
    def draw(key, ids):
        return np.array([counter_uniform(key, i) for i in ids])

    ids = np.array([0, 1, 17, 2**33 + 5, 123_456_789_012], np.int64)
    streams = Streams(11)
    expected = streams.uniform_for("x", 4, ids)
    np.testing.assert_array_equal(draw(Streams(11).key("x", 4), ids), expected)


def test_assortativity_from_the_publishing_pass_matches_the_direct_one():
    """The score assortativity of a step is finished from the next step's publishing pass
    (corrected for enrolment changes in between); it must equal a fresh computation on the
    step's own state, through enrolment waves and weekly rewiring."""
    def across_ties(net, s, scored):  # float64, every tie's two ends
        keep = scored[net.u] & scored[net.v]
        a, b = s[net.u[keep]].astype(float), s[net.v[keep]].astype(float)
        if keep.sum() < 2 or np.concatenate([a, b]).std() < 1e-6:
            return np.nan
        return np.corrcoef(np.concatenate([a, b]), np.concatenate([b, a]))[0, 1]

    sim = Sim("seed", people=3000, days=120, seed=4)
    direct = {name: [] for name in sim.schemes}
    while sim.t < sim.n_steps:
        sim.step()
        for name, sch in sim.schemes.items():
            direct[name].append(across_ties(sim.network, sch.s, sch.scored))
    sim.observer.finish()
    for name in sim.schemes:
        got = sim.outcomes.data[f"{name}_score_assortativity"]
        assert np.isfinite(got).sum() > 60
        np.testing.assert_allclose(got, direct[name], rtol=0, atol=1e-5, err_msg=name)


def test_assortativity_counts_scored_friends_without_a_sum_over_every_tie(monkeypatch):
    """A day's score assortativity takes each person's number of scored friends from the
    scheme's count kept up to date, corrected for who enrolled or left since (whole
    numbers): the column is the same to the bit as when they are counted over every tie,
    through enrolment waves, turnover and rewiring, with fewer sums over every tie."""
    from scoresim.model.network import Network
    from scoresim.results.outcomes import Observer

    sums = []
    whole = Network.neighbour_sum

    def counted(self, *args, **kwargs):
        sums.append(1)
        return whole(self, *args, **kwargs)

    monkeypatch.setattr(Network, "neighbour_sum", counted)

    def run():
        sums.clear()
        sim = Sim("seed", people=3000, days=75, seed=5)
        sim.run()
        return {k: v.copy() for k, v in sim.outcomes.data.items()
                if k.endswith("_score_assortativity")}, len(sums)

    kept, n_kept = run()
    monkeypatch.setattr(Observer, "_scored_friends", staticmethod(lambda *a: None))
    counted_again, n_again = run()
    for name, column in counted_again.items():
        assert np.isfinite(column).sum() > 40
        np.testing.assert_array_equal(kept[name].view(np.int64), column.view(np.int64),
                                      err_msg=name)
    assert n_kept <= n_again - 30  # (one sum fewer a scheme and day between rewirings)


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5"])
def test_a_bad_thread_count_is_a_clear_error(monkeypatch, tmp_path, value):
    from typer.testing import CliRunner

    from scoresim import ScenarioError
    from scoresim.cli import app

    monkeypatch.setenv("SCORESIM_THREADS", value)
    message = f"SCORESIM_THREADS: expected a whole number >= 1, got '{value}'."
    with pytest.raises(ScenarioError, match="SCORESIM_THREADS: expected a whole number"):
        Sim("seed", people=300, days=2).run()
    res = CliRunner().invoke(app, ["run", "seed", "--people", "300", "--days", "2",
                                   "--out", str(tmp_path / "run"), "--quiet"])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "run").exists()


def test_reference_benchmark_refuses_a_bad_repeat_count(capsys):
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    try:
        import reference_model
    finally:
        sys.path.pop(0)
    for bad in ("0", "-2", "three"):
        with pytest.raises(SystemExit) as exc:
            reference_model.build_parser().parse_args(["--repeat", bad])
        assert exc.value.code == 2
        assert f"--repeat: expected a whole number >= 1, got '{bad}'" in capsys.readouterr().err
    assert reference_model.build_parser().parse_args(["--repeat", "2"]).repeat == 2


@numba.njit
def _plain_poisson(u, lam):
    """The inversion with no shortcut, compiled (numpy's ``exp`` can differ from the
    compiled one by a unit in the last place, which matters for uniforms right at P(0))."""
    out = np.empty(u.shape[0], np.int32)
    for i in range(u.shape[0]):
        p = np.exp(-lam[i])
        cdf, pk, k = p, p, 0
        if u[i] > p:
            while True:
                k += 1
                pk = pk * lam[i] / k
                cdf = cdf + pk
                if not (u[i] > cdf and pk > 1e-15):
                    break
        out[i] = k
    return out


def test_poisson_shortcuts_agree_at_their_bounds():
    """Uniforms right at the bounds the shortcuts use (and at the true cumulative
    probabilities) give the counts of the plain inversion."""
    lam = np.repeat(np.concatenate([np.geomspace(1e-9, 2.0, 400), [0.0, 0.1, 0.3, 1.0]]), 5)
    half_sq = 0.5 * lam * lam
    at = np.choose(np.tile(np.arange(5), lam.size // 5),
                   [1 - lam, 1 - lam + half_sq, 1 - half_sq, np.exp(-lam),
                    np.exp(-lam) * (1 + lam)])
    u = np.concatenate([at + d for d in (-4e-16, -1e-16, 0, 1e-16, 4e-16)])
    u = np.clip(u, 0, np.nextafter(1, 0))
    lam = np.tile(lam, 5)
    expected = _plain_poisson(u, lam)
    np.testing.assert_array_equal(poisson_from_uniform(u, lam), expected)
    assert min((expected == k).sum() for k in (0, 1, 2)) > 100  # each case was reached


def test_a_step_leaves_no_arrays_to_the_cycle_collector():
    """A step's arrays are freed as soon as they are dropped, not by the cycle collector,
    which runs rarely (a reference cycle holding each step's rate factors once let memory
    grow by a gigabyte over a year at 10^6 people)."""
    import gc

    people = 2345
    sim = Sim("seed", people=people, days=20, seed=2)
    for _ in range(8):  # (compiled code loaded)
        sim.step()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(8):
            sim.step()
        gc.collect()
        def arrays_in(obj, depth: int = 2) -> bool:  # (a dict of arrays is not tracked)
            if isinstance(obj, np.ndarray):  # (of the run's people; not other tests' garbage)
                return obj.shape[:1] == (people,)
            return depth > 0 and any(arrays_in(r, depth - 1) for r in gc.get_referents(obj))

        holding = [type(o).__name__ for o in gc.garbage if arrays_in(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert holding == []
