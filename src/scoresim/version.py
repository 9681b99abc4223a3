"""The version of scoresim, named in run folders and checkpoints."""

__version__ = "0.1.0"
