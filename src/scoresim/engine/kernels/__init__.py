"""The compiled kernels (numba), one module per model module; each has a plain rule
in :mod:`scoresim.model` (or :mod:`scoresim.results.outcomes`) that it is tested against."""


def compiled():
    """The compiled kernels under the names of the model's plain rules
    (:func:`scoresim.model.plain.plain` has the same names): what the ``compiled`` engine
    hands each component when it is built."""
    from types import SimpleNamespace

    from scoresim.engine.kernels.scoring import (
        _add_rule_points,
        _advance_own,
        _mark_active,
        _pull_to_friends,
        _rule_points_sparse,
        _set_level,
    )

    return SimpleNamespace(
        reference=False,
        add_rule_points=_add_rule_points, rule_points_sparse=_rule_points_sparse,
        mark_active=_mark_active, advance_own=_advance_own, set_level=_set_level,
        pull_to_friends=_pull_to_friends,
    )
