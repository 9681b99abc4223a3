"""The model's plain rules (numpy), under the names the compiled kernels have too
(:mod:`scoresim.model.compiled`): what the ``reference`` engine hands each component when
it is built, so that no rule asks which engine it runs in."""

from __future__ import annotations

from types import SimpleNamespace

from scoresim.model.accumulation import (
    advance_own,
    mark_active,
    set_factor_level_plain,
    set_level_plain,
)
from scoresim.model.adaptation import (
    add_known_all,
    expressed,
    gaming_exponents,
    learn_opaque,
    strategic_dissent_plain,
)
from scoresim.model.behaviour import draw_events_plain
from scoresim.model.life import drawn_below_plain
from scoresim.model.network import add_to_friends_plain, neighbour_sum_plain
from scoresim.model.publishing import pull_to_friends
from scoresim.model.record_log import move_level_plain, ring_add_plain
from scoresim.model.rewiring import unfriend_ends_plain
from scoresim.model.rules import add_rule_points_plain, rule_points_sparse_plain
from scoresim.model.sanctions import count_hits, ongoing_effect
from scoresim.model.sources import record_source


def plain() -> SimpleNamespace:
    return SimpleNamespace(
        engine="reference",
        # behaviour, life events, records
        draw_events=draw_events_plain, drawn_below=drawn_below_plain,
        record_source=record_source,
        # scoring
        add_rule_points=add_rule_points_plain, rule_points_sparse=rule_points_sparse_plain,
        mark_active=mark_active, advance_own=advance_own, set_level=set_level_plain,
        set_factor_level=set_factor_level_plain,
        ring_add=ring_add_plain, move_level=move_level_plain, pull_to_friends=pull_to_friends,
        # friends
        neighbour_sum=neighbour_sum_plain, add_to_friends=add_to_friends_plain,
        # sanctions
        count_hits=count_hits, ongoing_effect=ongoing_effect,
        # adaptation, ties
        learn_opaque=learn_opaque, add_known=add_known_all,
        gaming_exponents=gaming_exponents, strategic_dissent=strategic_dissent_plain,
        expressed=expressed, unfriend_ends=unfriend_ends_plain,
    )
