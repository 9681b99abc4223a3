"""The model's components (:mod:`scoresim.model.component`).

Importing the package registers the components that plug into every simulation whose
scenario wants them (:func:`scoresim.model.component.register`): the adaptive authority
(:mod:`scoresim.model.authority`, ``authority.*``), the lender whose loans follow a
scheme's score (:mod:`scoresim.model.lending`, ``lending.*``), the outcome columns of
preference falsification (:mod:`scoresim.model.falsification`) and the impact tracker
(:mod:`scoresim.model.impact`, ``impact.track``)."""

from scoresim.model import authority as _authority  # noqa: F401  (registers it)
from scoresim.model import falsification as _falsification  # noqa: F401  (registers it)
from scoresim.model import impact as _impact  # noqa: F401  (registers it)
from scoresim.model import lending as _lending  # noqa: F401  (registers it)
