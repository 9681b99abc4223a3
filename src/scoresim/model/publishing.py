"""Publishing a scheme's score (M4, M5): the own score pulled toward friends' scores, on the
scheme's recomputation days, and the tiers it falls in.

``s = clip((1 - w) * b + w * mean(s of scored friends, previous publication))``; no scored
friends: ``s = b``; recomputed every ``recompute_every_days`` (Suqian: monthly), unchanged
in between.

Two counterfactual scores are published beside ``s``, on the same days (so that they are
exactly as stale as ``s`` between recomputations):

- ``s_clean``, the error-free score: ``b_clean`` pulled toward friends' ``s_clean`` (a world
  without misattributed records has none in friends' scores either); a sanction that
  ``s_clean`` would not have triggered is wrongful;
- ``s_own``, the score without friends: what publishing gives with the friends' term
  removed (``w = 0``: ``s_own = b`` as of the recomputation day); a sanction that ``s_own``
  would not have triggered is by association.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scoresim.model.component import Array, Component
from scoresim.model.network import Network
from scoresim.scenario.schema import SchemeConfig

if TYPE_CHECKING:
    from types import SimpleNamespace


@dataclass(frozen=True)
class FriendSums:
    """One publishing pass: per person, the sum of ``scores`` over friends who were
    ``scored`` (on the network of version ``network_version``)."""

    network_version: int
    scores: np.ndarray
    scored: np.ndarray
    sums: np.ndarray


def _initial(pub: Publishing, who: np.ndarray, step: int, key) -> float:
    return pub.cfg.initial_score


class Publishing(Component):
    """The published score ``s`` (with ``s_clean`` and ``s_own``: see the module's
    docstring) of one scheme, and its tiers."""

    STATE = (Array("s", newcomer=_initial), Array("s_clean", newcomer=_initial),
             Array("s_own", newcomer=_initial))
    CACHES = ("friend_sums",)
    CONSTANTS = ("tier_mins",)

    def __init__(self, key: str, cfg: SchemeConfig, n: int, kernels: SimpleNamespace):
        self.key, self.cfg, self.n, self.k = key, cfg, n, kernels
        self.s = np.full(n, cfg.initial_score, np.float32)
        self.s_clean = self.s.copy()
        self.s_own = self.s.copy()
        tiers = sorted(cfg.tiers.items(), key=lambda kv: kv[1].min)
        self.tier_names = [t for t, _ in tiers]
        self.tier_mins = np.array([b.min for _, b in tiers], dtype=np.float32)
        #: the last publishing pass's sums of friends' scores (kept for the outcome table:
        #: the same sum gives yesterday's score assortativity)
        self.friend_sums: FriendSums | None = None

    def drop_caches(self) -> None:
        self.friend_sums = None  # (the published scores changed)

    def publish(self, network: Network, step: int, b: np.ndarray, b_clean: np.ndarray,
                scored: np.ndarray, scored_friends) -> None:
        """Published score: own score pulled toward scored friends' previous scores (M4),
        on the scheme's recomputation days (every ``recompute_every_days`` from the run's
        first); in between it stays as published. ``scored_friends()``: how many scored
        friends each person has. The error-free score ``s_clean`` is pulled toward
        friends' error-free scores; ``s_own`` is the own score of the day, without
        friends."""
        if step % self.cfg.recompute_every_days:
            return
        self.s_own = b.copy()
        w = self.cfg.friend_weight
        if w == 0.0 or network.n_edges == 0:
            self.s, self.s_clean = b.copy(), b_clean.copy()
            return
        n_friends = scored_friends()
        friends_sum = network.neighbour_sum(self.s, where=scored)
        # Where no error has ever reached a score, the clean scores are the scores, bit for
        # bit, and so is their sum over friends: not summed twice.
        friends_sum_clean = friends_sum if _same_bits(self.s_clean, self.s) else \
            network.neighbour_sum(self.s_clean, where=scored)
        self.friend_sums = FriendSums(network.version, self.s, scored, friends_sum)
        self.s, self.s_clean = self.k.pull_to_friends(
            b, b_clean, friends_sum, friends_sum_clean, n_friends, scored,
            np.float32(1.0 - w), np.float32(w), np.float32(self.cfg.min_score),
            np.float32(self.cfg.max_score))

    def tier_index(self, scores: np.ndarray | None = None) -> np.ndarray:
        scores = self.s if scores is None else scores
        if not self.tier_names:
            return np.zeros(scores.shape, np.int16)
        return (np.searchsorted(self.tier_mins, scores, side="right") - 1).clip(0).astype(
            np.int16
        )


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` and ``b`` hold the same bits (so any sum of them is the same, to the bit)."""
    if a is b:
        return True
    if a.dtype != b.dtype or a.shape != b.shape or not (a.flags.c_contiguous
                                                       and b.flags.c_contiguous):
        return False
    return np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))


# ------------------------------------------------------------------ the rules, plainly


def pull_to_friends(b, b_clean, friends_sum, friends_sum_clean, n_friends, scored, own,
                    pull, lo, hi):
    """M4: ``s = clip(own * b + pull * mean of scored friends' s, lo, hi)`` (own = 1 - w,
    pull = w) for the scored with scored friends; ``s = b`` for everyone else. The same
    for the clean scores, from friends' clean scores (``friends_sum_clean``). float32
    throughout."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = friends_sum / n_friends
        mean_clean = friends_sum_clean / n_friends
    pulled = scored & (n_friends > 0)
    s = np.where(pulled, np.clip(own * b + pull * mean, lo, hi), b).astype(np.float32)
    s_clean = np.where(pulled, np.clip(own * b_clean + pull * mean_clean, lo, hi),
                       b_clean).astype(np.float32)
    return s, s_clean
