"""Checksums of run and comparison folders: ``metadata.json`` (``comparison.json``)
records the SHA-256 of every other file (``sha256``: file name -> hex digest);
:func:`verify` refuses a folder whose files were changed, truncated, swapped or removed
since, or that holds a table or figure the run did not write.

The index file cannot hold its own digest, and ``report.html`` is derived from the other
files and rewritten by ``scoresim report``; both are left out.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from scoresim.errors import ScenarioError, cut

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


# -------------------------------------------------------------------- checkpoint folders

#: A checkpoint's files whose SHA-256 ``checkpoint.json`` records (``sha256``).
CHECKPOINT_FILES = ("state.npz", "scenario.toml")


def checkpoint_digests(folder: Path) -> dict[str, str]:
    """What a checkpoint's ``checkpoint.json`` records of its other files (at save)."""
    return {name: sha256_file(folder / name) for name in CHECKPOINT_FILES}


def read_checkpoint_meta(folder: Path) -> dict:
    """``checkpoint.json`` of a checkpoint folder, read as a run folder's metadata is: a
    regular file (a pipe is refused at once, not waited on) of at most
    ``limits.META_MAX_BYTES``, UTF-8 JSON holding an object."""
    import json

    from scoresim.limits import META_MAX_BYTES, decode, read_bytes

    path = folder / "checkpoint.json"
    if not path.exists() and not path.is_symlink():
        raise ScenarioError(f"{folder}: not a checkpoint folder (no checkpoint.json).")
    text = decode(read_bytes(path, "checkpoint file", META_MAX_BYTES), path, "checkpoint file")
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ScenarioError(f"{path}: not a readable checkpoint (not valid JSON: "
                            f"{cut(str(exc), 120)}).") from None
    if not isinstance(meta, dict):
        raise ScenarioError(f"{path}: not a readable checkpoint (expected a JSON object).")
    return meta


def open_checkpoint(folder: Path, meta: dict) -> tuple[str, BinaryIO]:
    """(scenario.toml's text, state.npz opened) of a checkpoint folder whose
    ``checkpoint.json`` is ``meta``, under the rules of run folders: regular files only,
    size caps, the SHA-256 of each recorded at save and checked here, and state.npz's
    arrays, unpacked, no larger than a checkpoint of that many people of that scenario
    can hold (``limits.checkpoint_state_bytes``), found from the zip's entries and the
    arrays' headers before any array is allocated. The caller closes the file."""
    import hashlib

    from scoresim.limits import META_MAX_BYTES, decode, open_regular, read_bytes

    digests = meta.get("sha256")
    if not isinstance(digests, dict) or not all(
            isinstance(digests.get(name), str) for name in CHECKPOINT_FILES):
        raise ScenarioError(f"{folder / 'checkpoint.json'}: not a readable checkpoint (key "
                            "`sha256`: expected the SHA-256 of state.npz and scenario.toml).")
    path = folder / "scenario.toml"
    data = read_bytes(path, "checkpoint's scenario", META_MAX_BYTES)
    _check_digest(folder, "scenario.toml", hashlib.sha256(data).hexdigest(), digests)
    text = decode(data, path, "checkpoint's scenario")
    most = _state_bound(folder, meta, text)
    path = folder / "state.npz"
    fd = open_regular(path, "checkpoint's state", most + (16 << 20))
    fh = os.fdopen(fd, "rb")
    try:
        h = hashlib.sha256()
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
        _check_digest(folder, "state.npz", h.hexdigest(), digests)
        fh.seek(0)
        _check_unpacked(path, fh, most)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return text, fh


def _check_digest(folder: Path, name: str, digest: str, recorded: dict) -> None:
    if digest != recorded[name]:
        raise ScenarioError(f"{folder / name}: damaged checkpoint: changed since it was "
                            "written (its SHA-256 differs from the one in checkpoint.json); "
                            "write the checkpoint again.")


def _state_bound(folder: Path, meta: dict, text: str) -> int:
    """The most bytes the checkpoint's arrays may take (its people, its scenario)."""
    from scoresim.limits import checkpoint_state_bytes, parse_toml
    from scoresim.scenario.loading import validate

    path = folder / "scenario.toml"
    people = meta.get("people")
    if not isinstance(people, int) or isinstance(people, bool) or not 0 < people < 2**31:
        raise ScenarioError(f"{folder / 'checkpoint.json'}: not a readable checkpoint (key "
                            "`people`: expected a number of people).")
    return checkpoint_state_bytes(validate(parse_toml(text, str(path)), path), people)


def _check_unpacked(path: Path, fh: BinaryIO, most: int) -> None:
    """Refuse a state.npz whose arrays would take more than ``most`` bytes, or that is not
    a zip of plain ``.npy`` arrays, from the entries' headers (nothing allocated)."""
    import zipfile

    import numpy as np
    from numpy.lib import format as npy

    from scoresim.limits import _size

    try:
        with zipfile.ZipFile(fh) as z:
            entries = z.infolist()
            if len(entries) > 100_000:
                raise ScenarioError(f"{path}: damaged checkpoint ({len(entries):,} entries).")
            total = 0
            for info in entries:
                if not info.filename.endswith(".npy") or info.is_dir() or (
                        info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)):
                    raise ScenarioError(f"{path}: damaged checkpoint (entry "
                                        f"{cut(info.filename)!r} is not an array).")
                with z.open(info) as f:
                    version = npy.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = npy.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = npy.read_array_header_2_0(f)
                    header = f.tell()
                if dtype.hasobject:
                    raise ScenarioError(f"{path}: damaged checkpoint (array "
                                        f"{cut(info.filename)!r} holds Python objects).")
                size = dtype.itemsize * int(np.prod(shape, dtype=object))
                if size != info.file_size - header:
                    raise ScenarioError(f"{path}: damaged checkpoint (array "
                                        f"{cut(info.filename)!r}: its header does not match "
                                        "its size).")
                total += size
                if total > most:
                    raise ScenarioError(
                        f"{path}: the checkpoint's arrays take more than {_size(most)} once "
                        f"unpacked, more than a checkpoint of its people and scenario holds; "
                        "it is not read.")
    except ScenarioError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise ScenarioError(f"{path}: damaged checkpoint ({cut(str(exc), 120)}).") from None
