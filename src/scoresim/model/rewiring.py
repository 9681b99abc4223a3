"""Ties change (M6, docs/network.md): unfriending, ties dissolving, new ties forming.

Ties dissolve at the panels' yearly rate; unfriending adds to that hazard: people drop
friends whose visible scores drag theirs down (by more than ``unfriend_drag_points`` a
day: ``w * (own score - friend's) / number of friends``). Whoever is below their
friendship capacity (a dropped or dissolved tie) looks for a new friend
(:mod:`scoresim.model.network`: a friend of a friend, or someone met in the region or
anywhere); the tie forms if the other has room and they get on: homophily of expressed
opinion (and of score, where scores are public). The dating boost speeds the search. So
scoring rewires the network at about constant size. Every ``rewire_every_days`` days.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from scoresim.engine.kernels.adaptation import _unfriend
from scoresim.engine.rng import Streams, chunked_uniforms, pcg64_state, pcg64_store
from scoresim.model.network import (
    Network,
    dissolve,
    has_room,
    meet,
    missing_friends,
    open_to_friends,
    seekers,
    within_room,
)
from scoresim.model.people import People
from scoresim.model.scoring import Scheme
from scoresim.scenario.schema import AdaptationConfig


def rewire(cfg: AdaptationConfig, schemes: dict[str, Scheme], people: People,
           network: Network, dating_weight: np.ndarray, streams: Streams, step: int,
           kernels: SimpleNamespace) -> dict[str, int]:
    """One rewiring: ties dropped (unfriended, dissolved) and formed; returns the counts.
    ``dating_weight``: the dating boost's factor on each person's search rate."""
    days = cfg.rewire_every_days
    u, v = network.u, network.v
    drop = np.zeros(u.shape[0], bool)
    unfriended = 0
    judging = [sch for sch in schemes.values() if sch.cfg.friend_weight != 0]
    if cfg.unfriend_probability > 0 and schemes:
        gen = streams.gen("adaptation.unfriend", step)
        if judging:
            friends = np.maximum(network.degree, 1).astype(np.float32)
            w = np.array([sch.cfg.friend_weight for sch in judging], np.float32)
            s = np.stack([sch.s for sch in judging])
            scored = np.stack([sch.scored for sch in judging])
            shown = np.stack([sch.visible_to_friends for sch in judging])
            p = np.float32(cfg.unfriend_probability)
            limit = np.float32(cfg.unfriend_drag_points)
            base = np.float32(cfg.unfriend_risk_base)
            # The first E draws decide for the lower end of each tie, the next E for
            # the higher end.
            kernels.unfriend_ends(gen, u, v, p, base, people.risk_aversion, friends, w, s,
                                  scored, shown, limit, drop)
        unfriended = np.count_nonzero(drop)
    chance = cfg.tie_dissolve_rate_per_day * days
    if chance > 0:  # (at a rate of 0 no tie dissolves: nothing to draw)
        for lo, r in chunked_uniforms(streams.gen("network.dissolve", step),
                                      u.shape[0]):
            drop[lo:lo + r.shape[0]] |= dissolve(r, chance)

    # Those below their capacity (a dropped friend, a dissolved tie) look for a new
    # friend; the dating boost speeds the search.
    new_a = new_b = np.empty(0, np.int64)
    if cfg.new_tie_rate_per_day > 0 and people.n > 1:
        missing = missing_friends(network)
        a = seekers(streams.gen("network.seekers", step).random(people.n), missing,
                    cfg.new_tie_rate_per_day * days, dating_weight)
        g = streams.gen("network.meeting", step).random((6, a.shape[0]))
        strangers = open_to_friends(network, people.region)
        b = meet(network, a, g[:5], strangers, cfg.new_tie_friend_of_friend_share,
                 cfg.new_tie_same_region_share)
        met = b >= 0
        a, b, g = a[met], b[met], g[:, met]
        e = people.expressed_opinion
        affinity = -np.abs(e[a] - e[b]) / cfg.homophily
        for sch in schemes.values():
            if sch.cfg.visibility == "public":  # strangers see each other's scores
                shown = sch.visible_to_friends[a] & sch.visible_to_friends[b]
                gap = np.abs(sch.s[a] - sch.s[b]) / cfg.score_homophily_points
                affinity -= np.where(shown, gap, 0.0)
        accept = (b != a) & has_room(network, b) & (g[5] < np.exp(affinity))
        a, b = a[accept], b[accept]
        fits = within_room(a, b, missing)
        new_a, new_b = a[fits], b[fits]
    removed, added = network.update(drop, new_a, new_b, today=step)
    return {"ties_removed": removed, "ties_unfriended": unfriended, "ties_added": added}




# ------------------------------------------------------------------ the rules, plainly


def unfriend(r, a_end, b_end, p, base, risk, friends, w, s, scored, shown, limit, drop):
    """M6: the ``a`` end of a tie drops the ``b`` end if its uniform ``r`` is below
    ``p * (base + a's risk aversion)`` and, in some scheme that weighs friends, b's
    visible score drags a's scored score down by more than ``limit`` points a day:
    ``w * (s_a - s_b) / a's friends > limit``. float32 as the kernel."""
    checks = r < p * (base + risk[a_end])
    drag = w[:, None] * (s[:, a_end] - s[:, b_end]) / friends[a_end]
    judged = (scored[:, a_end] & shown[:, b_end] & (drag > limit)).any(axis=0)
    drop |= checks & judged


def unfriend_ends_plain(gen, u, v, p, base, risk, friends, w, s, scored, shown, limit, drop):
    """:func:`unfriend` for both ends of every tie: the first E uniforms of ``gen`` decide
    for the lower end of each tie, the next E for the higher end."""
    r = gen.random(2 * u.shape[0])
    for half, (a_end, b_end) in enumerate(((u, v), (v, u))):
        unfriend(r[half * u.shape[0]:(half + 1) * u.shape[0]], a_end, b_end, p, base, risk,
                 friends, w, s, scored, shown, limit, drop)


def unfriend_ends(gen, u, v, p, base, risk, friends, w, s, scored, shown, limit, drop):
    """:func:`unfriend_ends_plain` by the compiled kernel, drawing the same uniforms from
    the generator's state."""
    state = pcg64_state(gen)
    for a_end, b_end in ((u, v), (v, u)):
        _unfriend(state, a_end, b_end, p, base, risk, friends, w, s, scored, shown, limit,
                  drop)
    pcg64_store(gen, state)
