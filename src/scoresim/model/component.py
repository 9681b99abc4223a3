"""The contract every part of a simulation keeps: declared state, newcomers, a place in the day.

A component (the people, the network, a scheme's enrolment, rules, accumulation and
publishing, the data sources, sanctions, beliefs about risk, adaptation, demography, the
outcome table) declares the arrays it changes during a run, each an :class:`Array`: its
name, the axis it runs along and what a newcomer's slot gets. From these declarations alone

- :mod:`scoresim.state` collects a checkpoint and restores it,
- :func:`scoresim.state.resized` cuts and extends a population that grows or shrinks,
- :meth:`Component.reset` makes the slots of newcomers as new
  (:meth:`scoresim.sim.Sim.reset_people` calls it for every component, in order),
- :func:`declared_bytes` counts the bytes a person costs, for the memory estimate.

No list of arrays is kept anywhere else. Besides its state a component may hold
``CACHES`` (made again from the state: dropped at a restore, a resize and a reset, by
:meth:`Component.drop_caches`) and ``CONSTANTS`` (made from the scenario, never changed);
a test (tests/test_components.py) refuses an array held by a component that is none of
the three.

A component that takes part in the day (:mod:`scoresim.model.plan`) also has a ``STAGE``
(the stage of the day it runs after) and a ``step(day)``; its ``outputs`` name the outcome
columns it fills (:class:`scoresim.declarations.outcomes.OutcomeColumn`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

#: One value per person along the array's last axis (cut and extended at a resize).
PERSON = "person"
#: One value per row of a table whose rows refer to people (ties, record-log entries):
#: at a resize, rows of people who left are dropped and the arrays marked ``slots`` (the
#: people a row refers to) are renumbered; all arrays of one table share its rows.
ROW = "row"
#: Anything else (one value per day, a step number): kept as it is at a resize.
OTHER = "other"

#: ``newcomer`` values that are not a constant: the day's step number; the people's own
#: draws (made by the demography, :meth:`scoresim.model.demography.Demography.replace`:
#: nothing is filled here).
STEP = "step"
DRAWN = "drawn"


@dataclass(frozen=True)
class Array:
    """One array of a component's state.

    ``name``: the attribute that holds it. ``axis``: :data:`PERSON`, :data:`ROW` or
    :data:`OTHER`. ``newcomer``: what a newcomer's slot gets (a number, :data:`STEP`,
    :data:`DRAWN`, or a function ``(component, who, step, key) -> values``; for :data:`ROW`
    and :data:`OTHER` arrays, ignored: the component's own ``before_newcomers`` handles
    rows). ``mapping``: the attribute is a dict of such arrays by name (one per rule,
    kind or scheme), saved as ``name.KEY``. ``optional``: may be None (not saved then).
    ``table`` and ``slots``: for :data:`ROW` arrays, the table's name and whether this
    array holds person slots. ``copy``: a newcomer's values are written into a copy (the
    array may be shared with another component's). ``any_dtype``: a saved array of
    another float type is taken as it is (the rule that makes it chooses its type)."""

    name: str
    axis: str = PERSON
    newcomer: Any = 0
    mapping: bool = False
    optional: bool = False
    table: str = ""
    slots: bool = False
    copy: bool = False
    any_dtype: bool = False


class Component:
    """The base of every component (see the module's docstring). Subclasses set ``KEY``
    (or ``key`` per instance: the prefix of their arrays in a checkpoint), ``STATE``,
    ``CACHES`` and ``CONSTANTS``; override :meth:`declared` where the arrays depend on the
    scenario, and :meth:`parts` where the component is made of others."""

    KEY: ClassVar[str] = ""
    STATE: ClassVar[tuple[Array, ...]] = ()
    CACHES: ClassVar[tuple[str, ...]] = ()
    CONSTANTS: ClassVar[tuple[str, ...]] = ()
    #: attributes that hold a :data:`ROW` table in another layout (collected as rows)
    STORES: ClassVar[tuple[str, ...]] = ()

    @property
    def key(self) -> str:
        return self.__dict__.get("_key") or self.KEY

    @key.setter
    def key(self, value: str) -> None:
        self.__dict__["_key"] = value

    # ------------------------------------------------------------------ declarations

    def declared(self) -> tuple[Array, ...]:
        """The arrays of this component's state (the class's ``STATE`` by default)."""
        return self.STATE

    def parts(self) -> list[Component]:
        """The components this one is made of (their state is theirs, with their keys)."""
        return []

    def values(self) -> dict[str, Any]:
        """Small values of the state (JSON-able: counters, versions, flags)."""
        return {}

    def set_values(self, values: dict[str, Any]) -> None:
        """Put back what :meth:`values` gave (only the keys present: a fork may add)."""

    # ------------------------------------------------------------------- derived

    def arrays(self, specs: tuple[Array, ...] | None = None
               ) -> Iterator[tuple[str, Array, np.ndarray]]:
        """(name in the checkpoint, declaration, array) of every array of the state (of
        the declarations ``specs``: all by default) held in an attribute of its name."""
        for spec in self.declared() if specs is None else specs:
            value = getattr(self, spec.name)
            if value is None:
                if not spec.optional:
                    raise ValueError(f"{self.key}.{spec.name}: declared, but None")
                continue
            if spec.mapping:
                for k, x in value.items():
                    yield f"{spec.name}.{k}", spec, x
            else:
                yield spec.name, spec, value

    def collect(self) -> dict[str, tuple[np.ndarray, Array]]:
        """The state's arrays by name, with their declarations (views, not copies)."""
        return {name: (x, spec) for name, spec, x in self.arrays()}

    def gather(self, arrays: dict[str, np.ndarray], specs: dict[str, Array],
               values: dict[str, Any]) -> None:
        """Add this component's state and its parts' to a checkpoint's ``arrays`` (by
        dotted key: ``KEY.name``), their declarations to ``specs`` and the small values to
        ``values``."""
        for name, (x, spec) in self.collect().items():
            arrays[f"{self.key}.{name}"] = x
            specs[f"{self.key}.{name}"] = spec
        for name, value in self.values().items():
            values[f"{self.key}.{name}"] = value
        for part in self.parts():
            part.gather(arrays, specs, values)

    def load(self, arrays: dict[str, np.ndarray], values: dict[str, Any]) -> None:
        """Put a checkpoint's state (all of it, by dotted key) into this freshly built
        component and its parts: :meth:`restore` with its own arrays, :meth:`set_values`
        with its own values, then each part's ``load``."""
        prefix = f"{self.key}."
        mine = {k[len(prefix):]: x for k, x in arrays.items() if k.startswith(prefix)}
        self.restore(mine)
        small = {k[len(prefix):]: x for k, x in values.items() if k.startswith(prefix)}
        if small:
            self.set_values(small)
        for part in self.parts():
            part.load(arrays, values)

    def restore(self, saved: dict[str, np.ndarray]) -> None:
        """Put the saved arrays (by name, as :meth:`collect` names them) into this freshly
        built component, each checked against the one it replaces (an array not saved
        keeps its fresh value: new at a fork); caches are dropped."""
        for spec in self.declared():
            current = getattr(self, spec.name)
            if spec.mapping:
                prefix = f"{spec.name}."
                found = {k[len(prefix):]: x for k, x in saved.items() if k.startswith(prefix)}
                if current is None:
                    continue
                for k, x in found.items():
                    if k in current:
                        current[k] = like(f"{self.key}.{spec.name}.{k}", x, current[k])
                    elif spec.axis == PERSON and self.open_mapping(spec.name):
                        current[k] = x
                continue
            if spec.name not in saved:
                continue
            if current is None:
                setattr(self, spec.name, saved[spec.name])
            elif spec.any_dtype:
                x = np.asarray(saved[spec.name])
                if x.shape != np.shape(current):
                    raise ValueError(f"{self.key}.{spec.name}: {list(x.shape)} where "
                                     f"{list(np.shape(current))} belongs")
                setattr(self, spec.name, x)
            else:
                setattr(self, spec.name, like(f"{self.key}.{spec.name}", saved[spec.name],
                                              current))
        self.drop_caches()

    def open_mapping(self, name: str) -> bool:
        """Whether the mapping ``name`` takes saved entries the fresh one lacks (its keys
        change during a run, e.g. the kinds whose rates are multiplied today)."""
        return False

    def reset(self, who: np.ndarray, step: int) -> None:
        """The slots ``who`` are given to newcomers: each person array gets its declared
        newcomer value (``before_newcomers`` and ``after_newcomers`` around it do what a
        value cannot: rows of a table, counters), caches are dropped; then its parts, in
        order."""
        if not who.size:
            return
        self.before_newcomers(who, step)
        self.fill_newcomers(who, step)
        self.after_newcomers(who, step)
        self.drop_caches()
        for part in self.parts():
            part.reset(who, step)

    def fill_newcomers(self, who: np.ndarray, step: int) -> None:
        """Each declared person array's newcomer value in the slots ``who``."""
        for spec in self.declared():
            if spec.axis != PERSON or spec.newcomer == DRAWN:
                continue
            value = getattr(self, spec.name)
            if value is None:
                continue
            if spec.mapping:
                for k in list(value):
                    value[k] = _fill(self, spec, value[k], who, step, k)
            else:
                setattr(self, spec.name, _fill(self, spec, value, who, step, None))

    def before_newcomers(self, who: np.ndarray, step: int) -> None:
        """Hook: what a newcomer's slot needs before the declared values are filled."""

    def after_newcomers(self, who: np.ndarray, step: int) -> None:
        """Hook: what a newcomer's slot needs after the declared values are filled."""

    def drop_caches(self) -> None:
        """Hook: make the ``CACHES`` again from the state (at a restore and a reset)."""


def _fill(component: Component, spec: Array, x: np.ndarray, who: np.ndarray,
          step: int, key: str | None) -> np.ndarray:
    """``x`` with the newcomers' slots ``who`` set to the declared value (in a copy where
    the array is shared or read only); a function is given the mapping's ``key``."""
    if spec.copy or not x.flags.writeable:
        x = np.array(x, copy=True)
    value = spec.newcomer
    if value == STEP:
        value = step
    elif callable(value):
        value = value(component, who, step, key)
    x[..., who] = value
    return x


def like(key: str, x: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The saved array ``x``, checked against the freshly built one it replaces."""
    x = np.asarray(x)
    if x.shape != current.shape or x.dtype != current.dtype:
        raise ValueError(f"{key}: {x.dtype}{list(x.shape)} where {current.dtype}"
                         f"{list(current.shape)} belongs")
    return x


def walk(components: list[Component]) -> Iterator[Component]:
    """Every component and its parts, depth first, in order."""
    for c in components:
        yield c
        yield from walk(c.parts())


def declared_bytes(components: list[Component], n: int) -> float:
    """Bytes a person costs in the declared state and caches of ``components`` (built for
    ``n`` people): the person arrays' item sizes times their other axes."""
    total = 0
    for c in walk(components):
        seen = set()
        for x, spec in c.collect().values():
            if spec.axis == PERSON and id(x) not in seen:
                seen.add(id(x))
                total += x.nbytes
        for name in (*c.CACHES, *c.STORES):
            for x in _held(getattr(c, name, None), objects=True):
                if x.ndim and x.shape[-1] == n and id(x) not in seen:
                    seen.add(id(x))
                    total += x.nbytes
    return total / n


def _held(value: Any, depth: int = 0, objects: bool = False) -> Iterator[np.ndarray]:
    """The arrays in ``value`` (an array, or a tuple, list, dict, dataclass or named tuple
    of them; with ``objects``, the attributes of other objects too, two levels deep)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _held(v, depth, objects)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _held(v, depth, objects)
    elif isinstance(value, Component):
        return
    elif hasattr(value, "__dataclass_fields__") or hasattr(value, "_fields"):
        for name in getattr(value, "_fields", None) or value.__dataclass_fields__:
            yield from _held(getattr(value, name), depth, objects)
    elif objects and hasattr(value, "__dict__") and depth < 2:
        for v in vars(value).values():  # (a store's parts: a ring's rows)
            yield from _held(v, depth + 1, objects)


def held_arrays(component: Component) -> dict[str, list[np.ndarray]]:
    """Every array a component holds in its attributes (for the test that each is
    declared), by attribute name."""
    out: dict[str, list[np.ndarray]] = {}
    for name, value in vars(component).items():
        if isinstance(value, Component):
            continue
        arrays = list(_held(value))
        if arrays:
            out[name] = arrays
    return out


#: Components added by plug-ins (``register``): built by every Sim whose scenario wants
#: them (:meth:`Component.wanted`), after the built-in ones.
REGISTRY: list[type] = []


def register(cls: type) -> type:
    """Add a component class to every simulation (a decorator): ``cls(sim)`` is built
    where ``cls.wanted(scenario)``; it runs after its ``STAGE`` of the day."""
    if cls not in REGISTRY:
        REGISTRY.append(cls)
    return cls


def unregister(cls: type) -> None:
    if cls in REGISTRY:
        REGISTRY.remove(cls)


Step = Callable[[Any], None]
