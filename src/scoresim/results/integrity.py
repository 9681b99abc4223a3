"""Checksums of run and comparison folders: ``metadata.json`` (``comparison.json``)
records the SHA-256 of every other file (``sha256``: file name -> hex digest);
:func:`verify` refuses a folder whose files were changed, truncated, swapped or removed
since, or that holds a table or figure the run did not write.

The index file cannot hold its own digest, and ``report.html`` is derived from the other
files and rewritten by ``scoresim report``; both are left out.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from scoresim.errors import ScenarioError

UNCHECKED = frozenset({"metadata.json", "comparison.json", "report.html"})
#: Files of these kinds are read (tables) or shown (figures): one that the run did not
#: write is refused; other files (notes of the user) are left alone.
READ_SUFFIXES = frozenset({".parquet", ".toml", ".png", ".csv", ".json"})


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folder_digests(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 for every plain file of ``folder`` (not recursive) but
    :data:`UNCHECKED` and hidden or partial files."""
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir())
            if p.is_file() and p.name not in UNCHECKED and not p.name.startswith(".")
            and ".partial" not in p.name}


def verify(folder: Path, recorded: object, index: str = "metadata.json") -> None:
    """Raise :class:`ScenarioError` unless the folder's files are exactly those recorded in
    ``index`` (metadata.json of a run, comparison.json of a comparison)."""
    if not isinstance(recorded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in recorded.items()):
        raise ScenarioError(f"{folder / index}: key `sha256`: expected file names and SHA-256 "
                            "digests.")
    for name, digest in recorded.items():
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            raise ScenarioError(f"{folder / index}: key `sha256`: {name[:80]!r} is not a file "
                                "name of this folder.")
        path = folder / name
        if not path.is_file():
            raise ScenarioError(f"{path}: missing, but {index} lists it; the folder is "
                                "incomplete.")
        if sha256_file(path) != digest:
            raise ScenarioError(f"{path}: changed since it was written (its SHA-256 differs "
                                f"from the one in {index}); run it again to get a "
                                "trustworthy folder.")
    extra = sorted(name for name in folder_digests(folder)
                   if name not in recorded and Path(name).suffix in READ_SUFFIXES)
    if extra:
        raise ScenarioError(f"{folder}: {', '.join(extra[:5])} not written by the run (not in "
                            f"{index}'s checksums); remove it or run it again.")
