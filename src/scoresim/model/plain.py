"""The model's plain rules (numpy), under the names the compiled kernels have too
(:func:`scoresim.engine.kernels.compiled`): what the ``reference`` engine hands each
component when it is built, so that no rule asks which engine it runs in."""

from __future__ import annotations

from types import SimpleNamespace

from scoresim.model.accumulation import advance_own, mark_active, set_level_plain
from scoresim.model.publishing import pull_to_friends
from scoresim.model.rules import add_rule_points_plain, rule_points_sparse_plain


def plain() -> SimpleNamespace:
    return SimpleNamespace(
        reference=True,
        add_rule_points=add_rule_points_plain, rule_points_sparse=rule_points_sparse_plain,
        mark_active=mark_active, advance_own=advance_own, set_level=set_level_plain,
        pull_to_friends=pull_to_friends,
    )
