"""scoresim: an agent-based simulator of social-scoring systems on synthetic societies.

Everyone in scoresim is synthetic: there is no importer of real people's records.
"""

from scoresim.errors import ScenarioError  # noqa: E402
from scoresim.results.run_folder import Results  # noqa: E402
from scoresim.scenario.loading import load_scenario, preset_names  # noqa: E402
from scoresim.scenario.schema import Scenario  # noqa: E402
from scoresim.sim import Sim  # noqa: E402
from scoresim.version import __version__  # noqa: E402

__all__ = ["Results", "Scenario", "ScenarioError", "Sim", "load_scenario", "preset_names",
           "__version__"]
