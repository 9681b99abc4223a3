"""The compiled kernels (numba), under the names of the model's plain rules
(:mod:`scoresim.model.plain` has the same names): what the ``compiled`` engine hands each
component when it is built. Where a rule runs over parts of the people side by side, or
draws its uniforms from a generator's state, the wrapper here does that around the
kernel; each gives the plain rule's numbers (tests/test_engines.py)."""

from __future__ import annotations

from types import SimpleNamespace

from scoresim.engine.kernels.adaptation import _expressed, _learn_opaque
from scoresim.engine.kernels.sanctions import _count, _ongoing
from scoresim.engine.kernels.scoring import (
    _add_rule_points,
    _advance_own,
    _mark_active,
    _pull_to_friends,
    _rule_points_sparse,
    _set_level,
)
from scoresim.engine.kernels.sources import _record_source
from scoresim.model.accumulation import set_factor_level
from scoresim.model.adaptation import (
    add_known_threaded,
    gaming_exponents_threaded,
    strategic_dissent,
)
from scoresim.model.behaviour import draw_events
from scoresim.model.life import drawn_below
from scoresim.model.network import scatter_to_friends, sliced_neighbour_sum
from scoresim.model.record_log import move_level, ring_add
from scoresim.model.rewiring import unfriend_ends


def compiled() -> SimpleNamespace:
    return SimpleNamespace(
        engine="compiled",
        # behaviour, life events, records
        draw_events=draw_events, drawn_below=drawn_below, record_source=_record_source,
        # scoring
        add_rule_points=_add_rule_points, rule_points_sparse=_rule_points_sparse,
        mark_active=_mark_active, advance_own=_advance_own, set_level=_set_level,
        set_factor_level=set_factor_level,
        ring_add=ring_add, move_level=move_level, pull_to_friends=_pull_to_friends,
        # friends
        neighbour_sum=sliced_neighbour_sum, add_to_friends=scatter_to_friends,
        # sanctions
        count_hits=_count, ongoing_effect=_ongoing,
        # adaptation, ties
        learn_opaque=_learn_opaque, add_known=add_known_threaded,
        gaming_exponents=gaming_exponents_threaded, strategic_dissent=strategic_dissent,
        expressed=_expressed, unfriend_ends=unfriend_ends,
    )
