"""Limits before work: what input may cost, checked before anything is allocated.

- Input files (scenario and sweep files, edge lists) are read only if they are regular
  files under a size cap (:func:`read_text`): a FIFO, a device or ``/dev/zero`` is refused
  at once instead of hanging or filling memory.
- TOML text is scanned before it reaches the parser (:func:`check_toml_shape`): keys with
  more than :data:`MAX_KEY_PARTS` dotted parts and values nested deeper than
  :data:`MAX_NESTING` are refused (a single 200 KB dotted key made ``tomllib`` use more
  than 6 GB).
- A run's peak memory is estimated from people, mean degree, days and options
  (:func:`run_memory`, fitted to measured peaks) and a run, comparison or sweep that would
  need more than the memory available is refused with the estimate (:func:`check_memory`),
  unless the user passes ``--force``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import stat
from pathlib import Path

from scoresim.errors import ScenarioError, cut, cut_path

#: Largest scenario or sweep file (the shipped presets are 2-8 KB).
TOML_MAX_BYTES = 1 << 20
#: Largest edge list (about 25 million ties at ~10 bytes a line).
EDGELIST_MAX_BYTES = 256 << 20
#: Run folders: the largest scenario.toml / metadata.json read back.
META_MAX_BYTES = 16 << 20
#: Parts of one dotted key (``schemes.government.rules.3.points`` has 5).
MAX_KEY_PARTS = 32
#: Arrays and inline tables inside one another.
MAX_NESTING = 32
#: Characters of one number (a 30,000-digit integer takes the parser seconds).
MAX_NUMBER_CHARS = 64
#: Person ids are 32-bit.
MAX_PEOPLE = 2**31 - 1
#: A century of days: the outcome table has a row per day.
MAX_DAYS = 36_525
#: The days a run may cover: a century and more of calendar on either side for the
#: burn-in before ``start`` (at most MAX_DAYS), records lapsing after ``end`` (at most a
#: century) and the figures' axes (matplotlib's dates end with year 9999).
FIRST_DATE = dt.date(1000, 1, 1)
LAST_DATE = dt.date(8999, 12, 31)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def open_regular(path: Path | str, what: str, max_bytes: int) -> int:
    """A file descriptor of ``path`` (read-only) if it is a regular file of at most
    ``max_bytes``; a :class:`ScenarioError` naming the file and the reason otherwise. Opened
    non-blocking and checked with ``fstat`` on the descriptor itself: a pipe, a device or a
    folder is refused at once, and the file checked is the file read."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ScenarioError(f"{cut_path(path)}: cannot read the {what}: {exc.strerror}.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ScenarioError(f"{cut_path(path)}: the {what} must be a regular file, not "
                                f"{_kind(st.st_mode)}.")
        if st.st_size > max_bytes:
            raise ScenarioError(f"{cut_path(path)}: the {what} is {_size(st.st_size)}; at most "
                                f"{_size(max_bytes)} is read.")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: Path | str, what: str, max_bytes: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes``; a
    :class:`ScenarioError` naming the file and the reason otherwise. Never blocks on a pipe
    and never reads more than ``max_bytes + 1`` bytes."""
    path = Path(path)
    fd = open_regular(path, what, max_bytes)
    try:
        chunks, total = [], 0
        while True:
            try:
                block = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            except OSError as exc:
                raise ScenarioError(f"{cut_path(path)}: cannot read the {what}: {exc.strerror}.") \
                    from None
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > max_bytes:
                raise ScenarioError(f"{cut_path(path)}: the {what} is larger than "
                                    f"{_size(max_bytes)}; at most that is read.")
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode(data: bytes, path: Path | str, what: str) -> str:
    """UTF-8 text, or an error naming the file, line and byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(f"{cut_path(path)}, line {line}: the {what} is not UTF-8 text (byte "
                            f"0x{data[exc.start]:02x}); save it as UTF-8.") from None


def read_text(path: Path | str, what: str, max_bytes: int = TOML_MAX_BYTES) -> str:
    return decode(read_bytes(path, what, max_bytes), path, what)


# ---------------------------------------------------------------------------- TOML


_SPECIAL = re.compile(r"[\[\]{}=,.\"'#\n]")
_STRINGS = {  # (a multi-line string may end in up to two quotes before its closing three)
    '"""': re.compile(r'"""(?:[^"\\]++|\\[\s\S]|"(?!""))*+"""(?:"{1,2})?'),
    "'''": re.compile(r"'''(?:[^']++|'(?!''))*+'''(?:'{1,2})?"),
    '"': re.compile(r'"(?:[^"\\\n]++|\\.)*+"'),
    "'": re.compile(r"'[^'\n]*+'"),
}


_LONG_WORD = re.compile(rf"[0-9A-Za-z_]{{{MAX_NUMBER_CHARS + 1},}}")


def check_toml_shape(text: str, where: str) -> None:
    """Refuse TOML whose keys have more than :data:`MAX_KEY_PARTS` dotted parts, whose
    arrays and inline tables nest deeper than :data:`MAX_NESTING`, or that holds a number
    of more than :data:`MAX_NUMBER_CHARS` characters, before it is parsed.

    A scan of the text, not a parser: strings and comments are skipped, brackets counted,
    dots counted only where a key stands. Text it cannot follow (an unclosed string) is
    left to the parser, which reports it."""
    stack: list[str] = []
    key, parts, i, n = True, 1, 0, len(text)
    while i < n:
        m = _SPECIAL.search(text, i)
        end = n if m is None else m.start()
        if not key and end - i > MAX_NUMBER_CHARS:  # (a value outside strings: a number)
            w = _LONG_WORD.search(text, i, end)
            if w is not None:
                line = text.count("\n", 0, w.start()) + 1
                raise ScenarioError(f"{where}, line {line}: a number of more than "
                                    f"{MAX_NUMBER_CHARS} characters "
                                    f"({len(w.group()):,}); numbers of a scenario have a few.")
        if m is None:
            return
        j, c = m.start(), m.group()
        i = j + 1
        if c == "#":
            k = text.find("\n", j)
            i = n if k < 0 else k
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, j) else c
            s = _STRINGS[quote].match(text, j)
            if s is None:
                return
            i = s.end()
        elif c == "\n":
            if not stack:
                key, parts = True, 1
        elif key:
            if c == ".":
                parts += 1
                if parts > MAX_KEY_PARTS:
                    line = text.count("\n", 0, j) + 1
                    raise ScenarioError(f"{where}, line {line}: a key with more than "
                                        f"{MAX_KEY_PARTS} dotted parts; keys of a scenario "
                                        "have a few.")
            elif c == "=":
                key, parts = False, 1
            elif c == "}" and stack:  # an empty inline table
                stack.pop()
                key = False
        elif c in "[{":
            stack.append(c)
            if len(stack) > MAX_NESTING:
                line = text.count("\n", 0, j) + 1
                raise ScenarioError(f"{where}, line {line}: arrays or tables nested more than "
                                    f"{MAX_NESTING} deep.")
            key = c == "{"
        elif c in "]}":
            if stack:
                stack.pop()
        elif c == "," and stack and stack[-1] == "{":
            key, parts = True, 1


def parse_toml(text: str, where: str) -> dict:
    """``tomllib.loads`` after :func:`check_toml_shape`; every parse problem is a
    :class:`ScenarioError` naming ``where``."""
    import tomllib

    if text.startswith("\ufeff"):
        raise ScenarioError(f"{where}: the file starts with a byte order mark (BOM: the bytes "
                            "EF BB BF), which TOML does not allow; save it as UTF-8 without "
                            "BOM.")
    check_toml_shape(text, where)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{where}: not valid TOML: {cut(str(exc), 200)}.") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise ScenarioError(f"{where}: not valid TOML: {cut(str(exc), 200)}.") from None


def read_toml(path: Path | str, what: str = "scenario file") -> dict:
    return parse_toml(read_text(path, what), cut_path(path))


# -------------------------------------------------------------------------- memory

#: Fitted to measured peaks (docs/reliability.md has the figures and the commands): the
#: interpreter with numpy, scipy, pandas and numba loaded (250 MiB), and matplotlib,
#: pyarrow's writer and one row group when a run folder is written; per person the
#: people's arrays and the schemes' scores; per friend the network, held as edge list, CSR
#: and sliced form (4-byte ids, and the int64 arrays they are built from). The people and
#: network tables are written in row groups straight from the engine's arrays and the
#: report is drawn from a summary (results/run_folder.py, results/summary.py), so they
#: cost nothing per person. The split between person and friend follows the arrays'
#: sizes in the code; the sums at mean degree 10 are what was measured.
BASE_BYTES = 250 << 20
FOLDER_BASE_BYTES = 80 << 20
PERSON_BYTES = 358  # (+12 since: age, person id, friendship capacity; -4: the
#                     sliced adjacency's row order in int32)
FRIEND_BYTES = 41  # (+1 since: each tie's day of formation, two bytes a tie)
PEOPLE_TABLE_BYTES = 0
NETWORK_TABLE_BYTES_PER_FRIEND = 0.0
DAY_BYTES = 8 * 80
TRACE_BYTES_PER_DAY = 400


def run_memory(people: int, mean_degree: float, days: int, *, people_table: bool = True,
               network_table: bool = True, trace: int = 0) -> int:
    """Estimated peak resident memory of one run in bytes (the whole process).
    ``people_table``, ``network_table``: whether the run folder gets those tables (a sweep's
    runs write none)."""
    per_person = PERSON_BYTES + FRIEND_BYTES * mean_degree
    base = BASE_BYTES
    if people_table:
        per_person += PEOPLE_TABLE_BYTES
        base += FOLDER_BASE_BYTES
    if network_table:
        per_person += NETWORK_TABLE_BYTES_PER_FRIEND * mean_degree
    return int(base + people * per_person + days * DAY_BYTES
               + trace * days * TRACE_BYTES_PER_DAY)


def largest_population(have: int, mean_degree: float, days: int, *, people_table: bool = True,
                       network_table: bool = True, trace: int = 0) -> int:
    """The most people whose :func:`run_memory` fits in ``have`` bytes (0: none)."""
    fixed = run_memory(0, mean_degree, days, people_table=people_table,
                       network_table=network_table, trace=trace)
    per_person = run_memory(1_000_000, mean_degree, 0, people_table=people_table,
                            network_table=network_table) - run_memory(
        0, mean_degree, 0, people_table=people_table, network_table=network_table)
    return max(0, int((have - fixed) * 1_000_000 // per_person))


def growth_factor(scenario) -> float:
    """The most people a run holds per person it starts with: 1, or where the population
    grows (``demography.growth_per_year`` > 0) its size at the end over its size at the
    start (model/demography.py, ``target_size``)."""
    demo = scenario.demography
    g = demo.growth_per_year if demo.enabled else 0.0
    return max(1.0, (1.0 + g) ** (scenario.days / 365.25))


def peak_people(scenario) -> int:
    """The most people a run holds (``people.count``, grown by :func:`growth_factor`)."""
    return int(math.ceil(scenario.people.count * growth_factor(scenario)))


def resizes(scenario) -> bool:
    """Whether the population's size changes during the run (each turnover batch then
    copies the per-person state once: the old and the new arrays are held together)."""
    demo = scenario.demography
    return bool(demo.enabled and demo.growth_per_year)


def scenario_largest(scenario, have: int, trace: int = 0) -> int:
    """:func:`largest_population` for a scenario's degree, days and outputs (the
    population it starts with, where it grows or shrinks: :func:`scenario_memory`)."""
    net = scenario.network
    degree = net.mean_degree if net.kind != "edgelist" else 10.0
    most = largest_population(have, degree, scenario.days,
                              people_table=scenario.output.people_table,
                              network_table=scenario.output.network, trace=trace)
    return int(most / growth_factor(scenario) / (2 if resizes(scenario) else 1))


#: The record log of a scheme whose points lapse (model/record_log.py, RecordLog, Ring): the
#: level in force (float64 x 2), a linear fade's slopes (float64 x 2), credit repair's four
#: int32 arrays where repair is on; a ring of (buckets, n) float32 entries with errors, its
#: clean entries kept only where they differ (people with a misattributed record in force:
#: RING_CLEAN_BYTES a person for the whole ring, measured 0.5-2.2 over 400 days of seed);
#: a second ring for negative records where repair is on, sparse: NEGATIVE_ENTRY_BYTES an
#: entry (person and two float32) for NEGATIVE_SHARE of people a bucket (measured in
#: seed: 1-4% on average, at most 8%, over 500 days). Where the ring would need more
#: than RING_MAX_BUCKETS buckets (a daily recomputation) records are kept sparse, about one
#: entry of SPARSE_ENTRY_BYTES a person every second day of the period (seed's measured
#: rate: 172 entries a year).
RING_MAX_BUCKETS = 64
LOG_PERSON_BYTES = 16
SLOPE_BYTES = 16
REPAIR_PERSON_BYTES = 16
RING_ENTRY_BYTES = 4
RING_CLEAN_BYTES = 3
NEGATIVE_ENTRY_BYTES = 16
NEGATIVE_SHARE = 0.05
SPARSE_ENTRY_BYTES = 24


def record_log_bytes(scheme) -> int:
    """Bytes per person of one scheme's record logs (0 where points count for ever): one
    log, and one more per factor with rules of a weighted level of factors."""
    factors = {r.factor for r in scheme.rules if getattr(r, "factor", None)}
    return record_log_bytes_one(scheme) * (1 + len(factors))


def record_log_bytes_one(scheme) -> int:
    """Bytes per person of one record log of a scheme."""
    periods = [r.lasts_days for r in scheme.rules if r.lasts_days]
    if scheme.lasts_days is None and not periods:
        return 0
    if scheme.decay_shape == "exponential":
        return 16 * (1 + len(set(periods)))
    days = scheme.lasts_days or min(periods)
    every = max(int(scheme.recompute_every_days), 1)
    buckets = -(-days // every) + 1
    repair = scheme.repair.apply_rate_per_day > 0
    person = (LOG_PERSON_BYTES + (SLOPE_BYTES if scheme.decay_shape == "linear" else 0)
              + (REPAIR_PERSON_BYTES if repair else 0))
    if buckets > RING_MAX_BUCKETS:
        return person + int(days / 2 * SPARSE_ENTRY_BYTES)
    negative = buckets * NEGATIVE_ENTRY_BYTES * NEGATIVE_SHARE if repair else 0
    return person + buckets * RING_ENTRY_BYTES + RING_CLEAN_BYTES + int(round(negative))


#: A day's temporaries per person beyond the components' declared state (the day's
#: events, records and draws): ``PERSON_BYTES`` plus ``seed``'s record logs (1,016 bytes,
#: the fit above) less ``seed``'s declared state (959 bytes a person:
#: :func:`scoresim.sim.state_bytes`).
WORK_PERSON_BYTES = 57
#: The schemes' own per-person arrays (scores, stages, enrolment, knowledge, scratch and
#: the observer's per-scheme columns) and per-scheme fixed costs (rule tables, compiled
#: kernels' specialisations, figures): PERSON_BYTES and BASE_BYTES were fitted to seed's
#: two schemes; each scheme more (or fewer) adds (takes) these. Fitted to `scoresim run`
#: of seed with 58 copies of its government scheme (60 schemes, 30 days): measured peaks
#: 722, 1,442 and 2,381 MiB at 30,000, 100,000 and 200,000 people (docs/reliability.md).
SCHEMES_FITTED = 2
SCHEME_PERSON_BYTES = 48
SCHEME_BYTES = 2 << 20


def scenario_memory(scenario, trace: int = 0, state_bytes: float | None = None) -> int:
    """:func:`run_memory` of a scenario (for an edge list, the file's size stands in for
    the degree: about 10 bytes a tie), with the schemes' record logs and each scheme's
    arrays beyond seed's two (:data:`SCHEME_PERSON_BYTES`); at the largest
    population the run reaches (:func:`peak_people`), and where its size changes, with a
    second copy of the per-person state (a resize holds the old and the new arrays).
    ``state_bytes``: the bytes a person costs in the state the components declare
    (:func:`scoresim.sim.state_bytes`); then the estimate counts exactly those arrays
    (plus :data:`WORK_PERSON_BYTES`) instead of :data:`PERSON_BYTES`, the record logs'
    and the schemes' per-person estimates, so that a component added to the simulation
    is counted."""
    net = scenario.network
    degree = net.mean_degree if net.kind != "edgelist" else 10.0
    logs = sum(record_log_bytes(s) for s in scenario.schemes.values())
    more = len(scenario.schemes) - SCHEMES_FITTED
    schemes = more * SCHEME_PERSON_BYTES
    if state_bytes is not None:  # (the declared state: every scheme's arrays, the logs)
        logs, schemes = int(round(state_bytes + WORK_PERSON_BYTES)) - PERSON_BYTES, 0
    people = peak_people(scenario)
    total = (run_memory(people, degree, scenario.days,
                        people_table=scenario.output.people_table,
                        network_table=scenario.output.network, trace=trace)
             + people * (logs + schemes) + more * SCHEME_BYTES)
    if resizes(scenario):
        total += run_memory(people, degree, 0, people_table=False, network_table=False) - (
            run_memory(0, degree, 0, people_table=False, network_table=False)) + people * (
            logs + schemes)
    return total


#: A checkpoint's arrays (state.npz unpacked), bounded before they are allocated: a
#: scheme's state a person beyond what :func:`scenario_memory` counts (measured: 290-750
#: bytes a person for the presets' one or two schemes, 2 to 4 times below the estimate),
#: and a day's outcome row a scheme.
STATE_SCHEME_BYTES = 256
STATE_DAY_SCHEME_BYTES = 1024
STATE_SLACK_BYTES = 64 << 20


def checkpoint_state_bytes(scenario, people: int) -> int:
    """The most bytes a checkpoint of ``people`` people of ``scenario`` may hold in its
    arrays: twice the run's estimated peak at that size (:func:`scenario_memory`) less the
    interpreter's and libraries' share, a scheme's state a person and its outcome columns a
    day more. A state.npz whose arrays would need more is refused before any is read (it
    cannot be a checkpoint of that run)."""
    people = max(int(people), int(scenario.people.count))
    sized = scenario.model_copy(update={"people": scenario.people.model_copy(
        update={"count": people})})
    base = run_memory(0, 0.0, 0, people_table=sized.output.people_table,
                      network_table=sized.output.network)
    schemes = len(scenario.schemes) + 1
    return int(2 * (scenario_memory(sized) - base) + people * schemes * STATE_SCHEME_BYTES
               + scenario.days * schemes * STATE_DAY_SCHEME_BYTES + STATE_SLACK_BYTES)


def available_memory() -> int:
    """Bytes this process may still use: ``SCORESIM_MEMORY_BYTES`` if set, else the least
    of the system's available memory and what the cgroup (container) allows."""
    env = os.environ.get("SCORESIM_MEMORY_BYTES", "").strip()
    if env:
        if not env.isdigit():
            raise ScenarioError(f"SCORESIM_MEMORY_BYTES: expected a number of bytes, got "
                                f"{cut(env)!r}.")
        return int(env)
    options = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                options.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit.isdigit():
            options.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    if not options:
        try:
            options.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError):
            return 1 << 62
    return max(0, min(options))


def check_memory(needed: int, what: str, force: bool = False,
                 largest=None) -> None:
    """Refuse (exit 2) work whose estimated peak exceeds the memory available, before
    anything is allocated. ``largest``: bytes available -> the most people that would
    fit (named in the message)."""
    if force:
        return
    have = available_memory()
    if needed > have:
        fits = ""
        if largest is not None:
            most = largest(have)
            fits = (f" The largest population that fits is about {most:,} people."
                    if most > 0 else " Not even a small population fits.")
        raise ScenarioError(f"{what} needs about {_size(needed)} of memory by estimate, but "
                            f"only {_size(have)} is available.{fits} Use fewer people, days, "
                            "replicates or workers, or pass --force to try anyway.")


def check_size(people: int | None, days: int | None) -> None:
    """Bounds that hold even with ``--force`` (32-bit ids, a century of days)."""
    if people is not None and people > MAX_PEOPLE:
        raise ScenarioError(f"--people: at most {MAX_PEOPLE:,} (person ids are 32-bit), got "
                            f"{cut(str(people), 30)}.")
    if days is not None and days > MAX_DAYS:
        raise ScenarioError(f"--days: at most {MAX_DAYS:,} (a century), got "
                            f"{cut(str(days), 30)}.")
