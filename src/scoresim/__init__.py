"""scoresim: an agent-based simulator of social-scoring systems on synthetic societies.

Everyone in scoresim is synthetic: there is no importer of real people's records.

The names below are loaded on first use, so that ``import scoresim`` (or any of its
submodules) stays fast and imports nothing it does not need.
"""

from scoresim.errors import ScenarioError
from scoresim.version import __version__

_LAZY = {
    "Results": "scoresim.results.run_folder",
    "Scenario": "scoresim.scenario.schema",
    "Sim": "scoresim.sim",
    "load_scenario": "scoresim.scenario.loading",
    "preset_names": "scoresim.scenario.loading",
}

__all__ = ["Results", "Scenario", "ScenarioError", "Sim", "load_scenario", "preset_names",
           "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'scoresim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
