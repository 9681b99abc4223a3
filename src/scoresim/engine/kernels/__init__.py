"""The compiled kernels (numba), one module per model module; each has a plain rule
in :mod:`scoresim.model` (or :mod:`scoresim.results.outcomes`) that it is tested against."""

