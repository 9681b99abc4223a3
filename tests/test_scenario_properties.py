"""Property: whatever is done to a valid scenario, the loader returns a scenario that runs,
or raises ScenarioError; never anything else."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoresim import ScenarioError, Sim
from scoresim.scenario.loading import preset_names, read_raw, resolve_source, validate

PRESETS = {name: read_raw(resolve_source(name)) for name in preset_names()}

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


def paths(node, prefix=()):
    """Every path to a value or table in a raw scenario."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from paths(value, (*prefix, i))


def parent_of(raw, path):
    node = raw
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated(draw):
    import copy

    name = draw(st.sampled_from(sorted(PRESETS)))
    raw = copy.deepcopy(PRESETS[name])
    for _ in range(draw(st.integers(1, 3))):
        all_paths = list(paths(raw))
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent, key = parent_of(raw, path), path[-1]
        op = draw(st.sampled_from(["drop", "rename", "retype"]))
        if op == "drop":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[key + draw(st.text(min_size=1, max_size=3))] = parent.pop(key)
        else:
            value = draw(values)
            if value is None:
                del parent[key]
            else:
                parent[key] = value
    return name, raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_loader_returns_a_runnable_scenario_or_our_error(case):
    name, raw = case
    try:
        scenario = validate(raw, f"{name}.toml")
    except ScenarioError as exc:
        assert str(exc).startswith(f"{name}.toml")
        return
    Sim(scenario, people=60, days=3).run()
