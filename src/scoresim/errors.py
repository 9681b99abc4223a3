"""The one error a user sees for bad input: a message, no traceback, exit status 2."""


class ScenarioError(ValueError):
    """A scenario (file, preset name, override or option) that cannot be run, explained."""
