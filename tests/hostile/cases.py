"""The hostile and careless input corpus: each case is files to write, a command line, the
exit status expected and a fragment the output must hold (run by tests/test_hostile.py).

Placeholders in ``args``: ``{tmp}`` is the case's own folder (also the working directory),
``{run}`` a fresh copy of a small finished run folder. ``setup(tmp)`` makes what plain
files cannot (pipes, links, damaged run folders). Every case must end without a traceback
and, unless ``max_chars`` says otherwise, in under 2,000 characters of output: error
messages never echo long input. Most cases fail while checking input, before any work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SEED = 'extends = "seed"\n'
GIB = 1 << 30


@dataclass
class Case:
    name: str
    args: list[str]
    exit: int
    fragment: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None
    absent: str | None = None
    """Text that must not appear in the output (e.g. a file's content)."""
    env: dict[str, str] = field(default_factory=dict)
    patch: dict[str, object] = field(default_factory=dict)
    """``module:attribute`` -> value, set for the case only."""
    max_chars: int = 2000
    no_out: str | None = None
    """A path (with placeholders) that must not exist afterwards: nothing was written."""
    after: Callable[[Path], None] | None = None
    """Checks after the case (given the case's folder), e.g. that a file is unchanged."""


# ------------------------------------------------------------------------- helpers


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda tmp: os.mkfifo(tmp / name)


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _truncate(tmp: Path) -> None:
    path = tmp / "run" / "outcomes.parquet"
    path.write_bytes(path.read_bytes()[:100])


def _swap_tables(tmp: Path) -> None:
    run = tmp / "run"
    (run / "people.parquet").write_bytes((run / "network.parquet").read_bytes())


def _unsigned(change: Callable[[Path], None]) -> Callable[[Path], None]:
    """A damaged run folder from before checksums (no ``sha256`` in metadata.json)."""

    def setup(tmp: Path) -> None:
        _edit_json(tmp / "run" / "metadata.json", lambda m: m.pop("sha256", None))
        change(tmp)

    return setup


def _hold_lock(tmp: Path) -> None:
    import fcntl

    (tmp / "busy").mkdir()
    fd = os.open(tmp / "busy" / "sweep.lock", os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242")
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _held.append(fd)  # released by test_hostile after the case


_held: list[int] = []


def _run_folder_intact(tmp: Path) -> None:
    """The run folder's files are those its metadata lists, unchanged, and nothing was
    written beside it or into a DuckDB temporary folder (./.tmp)."""
    from scoresim.results.integrity import verify

    run = tmp / "run"
    verify(run, json.loads((run / "metadata.json").read_text(encoding="utf-8"))["sha256"])
    extra = sorted(p.name for p in run.iterdir())
    assert extra == sorted([*json.loads((run / "metadata.json").read_text())["sha256"],
                            "metadata.json"]), extra
    assert sorted(p.name for p in tmp.iterdir()) == ["run"], list(tmp.iterdir())


_checkpoints: list[Path] = []


def _checkpoint(change: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """A setup: a small checkpoint copied to ``{tmp}/ck`` (made once, 200 people of seed at
    its third day), then changed."""

    def setup(tmp: Path) -> None:
        import datetime as dt
        import shutil
        import tempfile

        if not _checkpoints:
            from scoresim import Sim, load_scenario

            sc = load_scenario("seed")
            folder = Path(tempfile.mkdtemp(prefix="hostile-ck-")) / "ck"
            Sim(sc, seed=1, people=200, days=6).run(
                checkpoints={sc.start + dt.timedelta(days=2): folder})
            _checkpoints.append(folder)
        shutil.copytree(_checkpoints[0], tmp / "ck")
        if change is not None:
            change(tmp / "ck")

    return setup


def _resign(ck: Path, name: str = "state.npz") -> None:
    """Record a file's new SHA-256 in checkpoint.json (a checkpoint made to deceive, not
    one damaged by accident)."""
    import hashlib

    digest = hashlib.sha256((ck / name).read_bytes()).hexdigest()
    _edit_json(ck / "checkpoint.json", lambda m: m["sha256"].update({name: digest}))


def _inflated_state(ck: Path) -> None:
    """state.npz: one deflated array of 256 MiB of zeros (a few hundred KB on disk), its
    hash recorded: larger than 200 people's checkpoint can be."""
    import zipfile

    from numpy.lib import format as npy

    (ck / "state.npz").unlink()
    n = (256 << 20) // 8
    with zipfile.ZipFile(ck / "state.npz", "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("people.age_days.npy", "w", force_zip64=True) as f:
        npy.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (n,)})
        block = bytes(16 << 20)
        for _ in range(n * 8 // len(block)):
            f.write(block)
    _resign(ck)


def _lying_header(ck: Path) -> None:
    """state.npz: an array whose header claims 10^12 values, its hash recorded."""
    import zipfile

    from numpy.lib import format as npy

    (ck / "state.npz").unlink()
    with zipfile.ZipFile(ck / "state.npz", "w") as z, z.open("x.npy", "w") as f:
        npy.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                       "shape": (10**12,)})
        f.write(bytes(64))
    _resign(ck)


def _flip_a_byte(ck: Path) -> None:
    """One byte of an array's values in state.npz changed (the zip stays readable)."""
    data = bytearray((ck / "state.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (ck / "state.npz").write_bytes(bytes(data))


def _sparse(name: str, size: int) -> Callable[[Path], None]:
    def change(ck: Path) -> None:
        with open(ck / name, "r+b") as f:
            f.truncate(size)

    return change


def _replace_with_fifo(name: str) -> Callable[[Path], None]:
    def change(ck: Path) -> None:
        (ck / name).unlink()
        os.mkfifo(ck / name)

    return change


def _dead_pid() -> int:
    """The id of a process that has ended (reused only after the kernel's pid_max)."""
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _partials(tmp: Path) -> None:
    """A partial folder of an ended process, one of a live one (this process), and a
    sweep's partial file of an ended process two folders down."""
    dead = _dead_pid()
    (tmp / f"old.partial-{dead}").mkdir()
    (tmp / f"old.partial-{dead}" / "outcomes.parquet").write_bytes(b"half")
    (tmp / f"busy.partial-{os.getpid()}").mkdir()
    (tmp / "sw" / "runs").mkdir(parents=True)
    (tmp / "sw" / "runs" / f"k.parquet.partial-{dead}").write_bytes(b"half")


def _cleaned(tmp: Path) -> None:
    assert not list(tmp.glob("old.partial-*")) and not list(tmp.glob("sw/runs/*.partial-*"))
    assert (tmp / f"busy.partial-{os.getpid()}").is_dir(), "a live process's folder went"


def _kept(tmp: Path) -> None:
    assert len(list(tmp.glob("old.partial-*"))) == 1
    assert len(list(tmp.glob("sw/runs/*.partial-*"))) == 1
    assert (tmp / f"busy.partial-{os.getpid()}").is_dir()


def _link_table_outside(tmp: Path) -> None:
    """people.parquet made a link to a table outside the run folder."""
    (tmp / "outside.parquet").write_bytes((tmp / "run" / "people.parquet").read_bytes())
    (tmp / "run" / "people.parquet").unlink()
    (tmp / "run" / "people.parquet").symlink_to(tmp / "outside.parquet")

SWEEP = """base = "{base}"
people = 200
days = 3
[[parameters]]
key = "schemes.government.friend_weight"
values = [0.0, 0.4]
[outcomes]
{outcomes}
"""


CALIBRATION = """\
base = "{base}"
people = 300
days = 10
trials = 2
[[parameters]]
key = "{key}"
low = {low}
high = {high}
[[targets]]
column = "{column}"
statistic = "mean"
observed = 1.0
uncertainty = {uncertainty}
"""


def calibration(base: str = "seed", key: str = "behaviour.rates_per_day.critical_statement",
                low: float = 0.01, high: float = 0.2, column: str = "critical_statements",
                uncertainty: float = 0.1) -> str:
    return CALIBRATION.format(base=base, key=key, low=low, high=high, column=column,
                              uncertainty=uncertainty)


def sweep(base: str = "seed", outcomes: str = 'critical_statements = ["mean"]') -> str:
    return SWEEP.format(base=base, outcomes=outcomes)



def _many_regions(n: int = 32_800) -> str:
    """More regions than int16 codes hold; everyone in the last one (codes above 32,767)."""
    return (SEED + "[people.regions]\n" + "".join(
        f"{r} = 0.0\n" for r in ("beijing", "shanghai", "suqian", "rongcheng", "other"))
        + "".join(f"r{i} = 0.0\n" for i in range(n - 1)) + f"r{n - 1} = 1.0\n")


def _other_sqlite(tmp: Path) -> None:
    import sqlite3

    con = sqlite3.connect(tmp / "mine.db")
    con.execute("CREATE TABLE notes (x TEXT)")
    con.commit()
    con.close()



def _interrupted_in_compiled_code(*args, **kwargs):
    """What numba leaves when Ctrl-C lands inside a compiled function: a SystemError whose
    cause is the KeyboardInterrupt."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise SystemError("<numba function> returned a result with an exception set") from exc


# --------------------------------------------------------------------------- cases

CASES = [
    # ---- scenario files: reading and parsing, bounded before the parser
    Case("toml_syntax", ["validate", "s.toml"], 2, "not valid TOML",
         {"s.toml": "a = = 1\n"}),
    Case("not_utf8", ["validate", "s.toml"], 2, "not UTF-8 text (byte 0xff)",
         {"s.toml": b'extends = "seed"\ndescription = "\xff\xfe"\n'}),
    Case("utf16_file", ["validate", "s.toml"], 2, "not UTF-8",
         {"s.toml": SEED.encode("utf-16")}),
    Case("long_dotted_key_200kb", ["validate", "s.toml"], 2, "more than 32 dotted parts",
         {"s.toml": "a" + ".a" * 100_000 + " = 1\n"}),
    Case("deep_table_header", ["validate", "s.toml"], 2, "more than 32 dotted parts",
         {"s.toml": "[" + ".".join(["x"] * 40) + "]\n"}),
    Case("deep_arrays", ["validate", "s.toml"], 2, "nested more than 32 deep",
         {"s.toml": "a = " + "[" * 50_000 + "]" * 50_000 + "\n"}),
    Case("deep_inline_tables", ["validate", "s.toml"], 2, "nested more than 32 deep",
         {"s.toml": "a = " + "{b = " * 200 + "1" + "}" * 200 + "\n"}),
    Case("integer_of_5000_digits", ["validate", "s.toml"], 2, "a number of more than 64",
         {"s.toml": SEED + "seed = " + "9" * 5000 + "\n"}),
    Case("file_over_the_cap", ["validate", "s.toml"], 2, "at most 1.0 MiB is read",
         {"s.toml": SEED + "# " + "x" * (1 << 20) + "\n"}),
    Case("fifo_as_scenario", ["validate", "s.toml"], 2, "regular file, not a pipe",
         setup=_fifo("s.toml")),
    Case("folder_as_scenario", ["validate", "d"], 2, "regular file, not a folder",
         setup=lambda tmp: (tmp / "d").mkdir()),
    Case("dev_zero_as_scenario", ["validate", "/dev/zero"], 2, "not a character device"),
    Case("missing_file", ["validate", "nope.toml"], 2, "no such preset or scenario file"),
    Case("empty_file", ["validate", "s.toml"], 2, "key `start` is required",
         {"s.toml": ""}),
    Case("many_unknown_keys", ["validate", "s.toml"], 2, "more problems",
         {"s.toml": SEED + "".join(f"k{i} = {i}\n" for i in range(3000))}, max_chars=6000),
    # ---- values
    Case("wrong_type", ["validate", "s.toml"], 2, "people.count",
         {"s.toml": SEED + '[people]\ncount = "many"\n'}),
    Case("nan", ["validate", "s.toml"], 2, "finite number",
         {"s.toml": SEED + "[people]\ncount = nan\n"}),
    Case("inf_rate", ["validate", "s.toml"], 2, "finite number",
         {"s.toml": SEED + "[sources.social]\nerror_rate = inf\n"}),
    Case("people_beyond_32_bit_ids", ["validate", "s.toml"], 2, "less than or equal to 2147483647",
         {"s.toml": SEED + "[people]\ncount = 1000000000000000000\n"}),
    Case("two_centuries", ["validate", "s.toml"], 2, "at most 36,525",
         {"s.toml": SEED + "end = 2220-01-01\n"}),
    Case("huge_string_is_cut", ["validate", "s.toml"], 2, "more characters",
         {"s.toml": SEED + 'name = "' + "x/" * 50_000 + '"\n'}),
    Case("unknown_key_suggests", ["validate", "s.toml"], 2, "Did you mean `people`",
         {"s.toml": SEED + "[peopel]\ncount = 3\n"}),
    Case("injection_in_when", ["validate", "s.toml"], 2, "cannot read",
         {"s.toml": SEED + '[[schemes.government.rules]]\nkind = "comment"\npoints = 1\n'
                           'when = "__import__(\'os\').system(\'true\')"\n'}),
    # ---- stay inside: names are names, files stay in the scenario's folder
    Case("name_is_a_path", ["validate", "s.toml"], 2, "never a path",
         {"s.toml": SEED + 'name = "../../x"\n'}),
    Case("name_with_slash", ["validate", "s.toml"], 2, "never a path",
         {"s.toml": SEED + 'name = "a/b"\n'}),
    Case("extends_absolute", ["validate", "s.toml"], 2, "absolute path",
         {"s.toml": 'extends = "/etc/hostname"\n'}),
    Case("extends_parent_folder", ["validate", "sub/s.toml"], 2, "leads outside",
         {"p.toml": SEED, "sub/s.toml": 'extends = "../p.toml"\n'}),
    Case("extends_inside_is_fine", ["validate", "s.toml"], 0, "ok: s.toml",
         {"lib/p.toml": SEED, "s.toml": 'extends = "lib/p.toml"\n'}),
    Case("extends_cycle", ["validate", "a.toml"], 2, "forms a cycle",
         {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'}),
    Case("extends_not_a_string", ["validate", "s.toml"], 2, "expected a preset name",
         {"s.toml": "extends = 3\n"}),
    Case("extends_a_fifo", ["validate", "s.toml"], 2, "regular file, not a pipe",
         {"s.toml": 'extends = "p.toml"\n'}, setup=_fifo("p.toml")),
    Case("edgelist_absolute", ["validate", "s.toml"], 2, "absolute path",
         {"s.toml": SEED + '[network]\nkind = "edgelist"\npath = "/etc/passwd"\n'}),
    Case("edgelist_outside", ["validate", "sub/s.toml"], 2, "leads outside",
         {"sub/s.toml": SEED + '[network]\nkind = "edgelist"\npath = "../../ties.txt"\n'}),
    Case("edgelist_content_not_echoed",
         ["run", "s.toml", "--people", "10", "--days", "2", "--quiet", "--out", "o"], 2,
         "line 1: expected two integer person ids",
         {"s.toml": SEED + '[network]\nkind = "edgelist"\npath = "ties.txt"\n',
          "ties.txt": "root:secret-password-hash:0:0\n"}, absent="secret", no_out="{tmp}/o"),
    Case("edgelist_fifo", ["run", "s.toml", "--people", "10", "--days", "2", "--quiet",
                           "--out", "o"], 2, "edge list must be a regular file, not a pipe",
         {"s.toml": SEED + '[network]\nkind = "edgelist"\npath = "ties.txt"\n'},
         setup=_fifo("ties.txt"), no_out="{tmp}/o"),
    Case("edgelist_not_utf8", ["run", "s.toml", "--people", "10", "--days", "2", "--quiet",
                               "--out", "o"], 2, "edge list is not UTF-8",
         {"s.toml": SEED + '[network]\nkind = "edgelist"\npath = "ties.txt"\n',
          "ties.txt": b"0 1\n\xff\xff\n"}, no_out="{tmp}/o"),
    # ---- command-line arguments: limits before work
    Case("people_10_to_23", ["run", "seed", "--people", str(10**23), "--out", "o"], 2,
         "at most 2,147,483,647", no_out="{tmp}/o"),
    Case("people_not_a_number", ["run", "seed", "--people", "10**23"], 2,
         "Invalid value for '--people'"),
    Case("people_50_million_refused", ["run", "seed", "--people", "50000000", "--out", "o"],
         2, "needs about", env={"SCORESIM_MEMORY_BYTES": str(24 * GIB)}, no_out="{tmp}/o"),
    Case("days_100_million", ["run", "seed", "--days", "100000000", "--out", "o"], 2,
         "at most 36,525", no_out="{tmp}/o"),
    Case("days_zero", ["run", "seed", "--days", "0", "--out", "o"], 2, ">= 1",
         no_out="{tmp}/o"),
    Case("tiny_memory_refuses", ["run", "seed", "--people", "500", "--out", "o"], 2,
         "pass --force", env={"SCORESIM_MEMORY_BYTES": "1000000"}, no_out="{tmp}/o"),
    Case("bad_memory_setting", ["run", "seed", "--out", "o"], 2, "SCORESIM_MEMORY_BYTES",
         env={"SCORESIM_MEMORY_BYTES": "lots"}),
    Case("set_without_equals", ["run", "seed", "--set", "people.count", "--out", "o"], 2,
         "expected KEY=VALUE"),
    Case("set_long_dotted_key", ["show", "seed", "--set", "a" + ".a" * 3000 + "=1"], 2,
         "more than 32 dotted parts"),
    Case("set_deep_value", ["show", "seed", "--set", "x=" + "[" * 1000 + "]" * 1000], 2,
         "nested more than 32 deep"),
    Case("set_too_long", ["show", "seed", "--set", "description=" + "x" * 20_000], 2,
         "longer than 10,000 characters"),
    Case("set_into_a_value", ["show", "seed", "--set", "seed.x=1"], 2, "key `seed`"),
    Case("set_falsification_weight_negative",
         ["run", "seed", "--set", "adaptation.self_censorship=falsification",
          "adaptation.falsification.reputation_weight=-0.5", "--out", "o"], 2,
         "adaptation.falsification.reputation_weight", no_out="{tmp}/o"),
    Case("set_lending_threshold_outside", ["run", "l.toml", "--set",
                                           "lending.threshold=5000", "--out", "o"], 2,
         "lending.threshold: 5000 lies outside the range of scheme 'sesame', [350, 950]",
         {"l.toml": SEED + '[lending]\nenabled = true\nscheme = "sesame"\n'
          'source = "commerce"\n[sources.commerce]\nkinds = ["purchase_domestic", '
          '"purchase_foreign", "foreign_book_order", "mobile_payment", "bill_paid", '
          '"bill_default", "loan_default", "lender_repayment", "lender_default"]\n'
          '[[schemes.sesame.rules]]\nkind = "lender_default"\n'
          'factor = "credit_history"\npoints = -40\n'}, no_out="{tmp}/o"),
    Case("trace_ids_bad", ["run", "seed", "--trace-ids", "3,x", "--out", "o"], 2,
         "--trace-ids"),
    # ---- --out: checked before the work
    Case("out_under_a_file", ["run", "seed", "--people", "50", "--days", "2", "--out",
                              "f/run"], 2, "--out cannot be written", {"f": "a file"}),
    Case("out_exists", ["run", "seed", "--people", "50", "--days", "2", "--out", "o"], 2,
         "exists already", setup=lambda tmp: (tmp / "o").mkdir()),
    Case("compare_out_under_a_file", ["compare", "baseline", "seed", "--people", "50",
                                      "--days", "2", "--replicates", "1", "--out", "f/c"], 2,
         "--out cannot be written", {"f": "a file"}),
    Case("compare_reads_edge_lists_beside_each_scenario_and_warns",
         ["compare", "sub/a.toml", "sub/b.toml", "--people", "6", "--days", "2",
          "--replicates", "1", "--workers", "1", "--out", "c"], 0,
         "describe different societies (they differ in people)",
         {"sub/a.toml": SEED + '[network]\nkind = "edgelist"\npath = "ties.txt"\n',
          "sub/b.toml": 'extends = "a.toml"\n[people]\ncommerce_account_share = 0.1\n',
          "sub/ties.txt": "0 1\n1 2\n2 3\n"}),
    Case("compare_replicates_zero", ["compare", "baseline", "seed", "--replicates", "0"], 2,
         "--replicates"),
    # ---- impact (issue 29): refused before any run, nothing written
    Case("impact_unknown_baseline", ["impact", "seed", "--baseline", "no_such_preset",
                                     "--out", "i"], 2, "--baseline", no_out="{tmp}/i"),
    Case("impact_scenario_without_scheme", ["impact", "baseline", "--out", "i"], 2,
         "has no scheme", no_out="{tmp}/i"),
    Case("impact_scenario_without_sanction", ["impact", "s.toml", "--out", "i"], 2,
         "has no sanction", {"s.toml": SEED + 'replace = ["sanctions"]\n'},
         no_out="{tmp}/i"),
    Case("impact_undeclared_context", ["impact", "s.toml", "--out", "i"], 2,
         "sources.court.context", {"s.toml": SEED + '[sources.court]\ncontext = "gossip"\n'},
         no_out="{tmp}/i"),
    Case("impact_replicates_zero", ["impact", "seed", "--replicates", "0"], 2,
         "--replicates"),
    Case("compare_memory_refused", ["compare", "baseline", "seed", "--people", "20000000",
                                    "--replicates", "8", "--workers", "4"], 2,
         "needs about", env={"SCORESIM_MEMORY_BYTES": str(24 * GIB)}),
    # ---- run folders given to report / explain: checked, not trusted
    Case("report_missing_folder", ["report", "nowhere"], 2, "no such run or comparison"),
    Case("report_truncated_outcomes", ["report", "{run}"], 2, "changed since it was written",
         setup=_truncate),
    Case("report_swapped_table", ["report", "{run}"], 2, "people.parquet: changed since",
         setup=_swap_tables),
    Case("report_extra_table", ["report", "{run}"], 2, "not written by the run",
         setup=lambda tmp: (tmp / "run" / "extra.parquet").write_bytes(
             (tmp / "run" / "outcomes.parquet").read_bytes())),
    Case("report_bad_metadata_json", ["report", "{run}"], 2, "metadata.json: not valid JSON",
         setup=lambda tmp: (tmp / "run" / "metadata.json").write_text("{", encoding="utf-8")),
    Case("report_deep_metadata_json", ["report", "{run}"], 2, "metadata.json",
         setup=lambda tmp: (tmp / "run" / "metadata.json").write_text(
             "[" * 100_000 + "]" * 100_000, encoding="utf-8")),
    Case("report_checksum_names_a_path", ["report", "{run}"], 2, "not a file name",
         setup=lambda tmp: _edit_json(tmp / "run" / "metadata.json",
                                      lambda m: m["sha256"].update({"../x": "0"}))),
    Case("explain_unsigned_truncated", ["explain", "{run}", "--person", "1"], 2,
         "not a readable parquet table", setup=_unsigned(_truncate)),
    Case("explain_unsigned_scenario_not_utf8", ["explain", "{run}", "--person", "1"], 2,
         "not UTF-8", setup=_unsigned(lambda tmp: (tmp / "run" / "scenario.toml").write_bytes(
             b"\xff\xfe")),),
    Case("explain_unsigned_bad_scenario", ["explain", "{run}", "--person", "1"], 2,
         "scenario.toml", setup=_unsigned(lambda tmp: (tmp / "run" / "scenario.toml")
                                          .write_text("start = 3\n", encoding="utf-8"))),
    Case("report_ok", ["report", "{run}"], 0, "report.html"),
    # ---- sweeps: checked before the first run
    Case("sweep_misspelt_outcome", ["sweep", "w.toml", "--out", "o", "--quiet"], 2,
         "no column 'critical_statments'",
         {"w.toml": sweep(outcomes='critical_statments = ["mean"]')}, no_out="{tmp}/o"),
    Case("sweep_misspelt_statistic", ["sweep", "w.toml", "--out", "o"], 2, "outcomes",
         {"w.toml": sweep(outcomes='critical_statements = ["average"]')}),
    Case("sweep_huge_grid", ["sweep", "w.toml", "--out", "o"], 2, "needs about",
         {"w.toml": 'base = "seed"\n' + "".join(
             f'[[parameters]]\nkey = "sources.social.error_rate{i}"\nvalues = '
             f'{list(range(100))}\n' for i in range(8))
          + '[outcomes]\ncritical_statements = ["mean"]\n'}, no_out="{tmp}/o"),
    Case("sweep_huge_sobol", ["sweep", "w.toml", "--out", "o"], 2, "needs about",
         {"w.toml": 'base = "seed"\n[design]\nkind = "sobol"\nsamples = 1000000000000\n'
                    '[[parameters]]\nkey = "a"\nlow = 0\nhigh = 1\n[[parameters]]\nkey = "b"\n'
                    'low = 0\nhigh = 1\n[outcomes]\ncritical_statements = ["mean"]\n'}),
    Case("sweep_base_outside", ["sweep", "sub/w.toml", "--out", "o"], 2, "leads outside",
         {"p.toml": SEED, "sub/w.toml": sweep(base="../p.toml")}),
    Case("sweep_not_utf8", ["sweep", "w.toml"], 2, "sweep file is not UTF-8",
         {"w.toml": b"base = '\xff'\n"}),
    Case("sweep_fifo", ["sweep", "w.toml"], 2, "sweep file must be a regular file",
         setup=_fifo("w.toml")),
    Case("sweep_into_a_run_folder", ["sweep", "w.toml", "--out", "{run}", "--quiet"], 2,
         "holds a run", {"w.toml": sweep()}),
    Case("sweep_into_an_unrelated_folder", ["sweep", "w.toml", "--out", "stuff", "--quiet"], 2,
         "not a sweep folder", {"w.toml": sweep(), "stuff/notes.txt": "mine"}),
    Case("sweep_out_is_a_file", ["sweep", "w.toml", "--out", "f", "--quiet"], 2,
         "is a file, not a folder", {"w.toml": sweep(), "f": "x"}),
    Case("sweep_locked_folder", ["sweep", "w.toml", "--out", "busy", "--quiet"], 2,
         "another sweep (pid 4242)", {"w.toml": sweep()}, setup=_hold_lock),
    Case("sweep_unreachable_scheduler", ["sweep", "w.toml", "--out", "o", "--quiet",
                                         "--scheduler", "tcp://127.0.0.1:9"], 2,
         "cannot reach a dask scheduler", {"w.toml": sweep()},
         patch={"scoresim.experiments.sweep:SCHEDULER_TIMEOUT_S": 2}),
    Case("sweep_folder_with_damaged_sweep_json", ["sweep", "w.toml", "--out", "o", "--quiet"],
         2, "holds the results of another sweep",
         {"w.toml": sweep(), "o/sweep.json": "{not json"}),
    # ---- calibration: checked before the first trial
    Case("calibrate_misspelt_column", ["calibrate", "c.toml", "--out", "o"], 2,
         "targets.0.column`: no column 'critical_statments'",
         {"c.toml": calibration(column="critical_statments")}, no_out="{tmp}/o"),
    Case("calibrate_zero_uncertainty", ["calibrate", "c.toml", "--out", "o"], 2,
         "targets.0.uncertainty", {"c.toml": calibration(uncertainty=0)}, no_out="{tmp}/o"),
    Case("calibrate_bounds_reversed", ["calibrate", "c.toml", "--out", "o"], 2,
         "bounds reversed", {"c.toml": calibration(low=0.2, high=0.01)}, no_out="{tmp}/o"),
    Case("calibrate_unknown_key", ["calibrate", "c.toml", "--out", "o"], 2,
         "parameters.0", {"c.toml": calibration(key="behaviour.nonsense")}, no_out="{tmp}/o"),
    Case("calibrate_base_outside", ["calibrate", "sub/c.toml", "--out", "o"], 2,
         "leads outside", {"p.toml": SEED, "sub/c.toml": calibration(base="../p.toml")}),
    Case("calibrate_not_utf8", ["calibrate", "c.toml"], 2, "calibration file is not UTF-8",
         {"c.toml": b"base = '\xff'\n"}),
    Case("calibrate_fifo", ["calibrate", "c.toml"], 2, "calibration file must be a regular file",
         setup=_fifo("c.toml")),
    Case("calibrate_into_a_run_folder", ["calibrate", "c.toml", "--out", "{run}"], 2,
         "holds a run", {"c.toml": calibration()}),
    Case("calibrate_into_an_unrelated_folder", ["calibrate", "c.toml", "--out", "stuff"], 2,
         "not a calibration folder", {"c.toml": calibration(), "stuff/notes.txt": "mine"}),
    Case("calibrate_out_is_a_file", ["calibrate", "c.toml", "--out", "f"], 2,
         "is a file, not a folder", {"c.toml": calibration(), "f": "x"}),
    Case("calibrate_unreachable_storage", ["calibrate", "c.toml", "--out", "o", "--storage",
                                           "postgresql://nobody@127.0.0.1:9/none"], 2,
         "--storage postgresql://nobody@127.0.0.1:9/none: cannot be used",
         {"c.toml": calibration()}),
    Case("calibrate_damaged_study", ["calibrate", "c.toml", "--out", "o"], 2,
         "cannot be used", {"c.toml": calibration(), "o/study.db": "not a database",
                            "o/calibration.json": "{}"}),
    Case("calibrate_bad_storage_url", ["calibrate", "c.toml", "--out", "o", "--storage",
                                       "nonsense://x"], 2, "--storage nonsense://x",
         {"c.toml": calibration()}),
    Case("sensitivity_damaged_results", ["sensitivity", "o", "--outcome", "x"], 2,
         "damaged sweep folder", {"o/sweep.json": "{}", "o/results.parquet": "not parquet"}),
    Case("sensitivity_not_a_sweep", ["sensitivity", "{run}", "--outcome", "x"], 2,
         "not a finished sweep folder"),
    # ---- checkpoints: read under the rules of run folders
    Case("checkpoint_state_fifo", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "state must be a regular file, not a pipe",
         setup=_checkpoint(_replace_with_fifo("state.npz")), no_out="{tmp}/o"),
    Case("checkpoint_scenario_fifo", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "scenario must be a regular file, not a pipe",
         setup=_checkpoint(_replace_with_fifo("scenario.toml")), no_out="{tmp}/o"),
    Case("checkpoint_json_fifo", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "checkpoint file must be a regular file, not a pipe",
         setup=_checkpoint(_replace_with_fifo("checkpoint.json")), no_out="{tmp}/o"),
    Case("checkpoint_json_sparse_1gib", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "checkpoint file is 1.0 GiB; at most 16.0 MiB is read",
         setup=_checkpoint(_sparse("checkpoint.json", GIB)), no_out="{tmp}/o"),
    Case("checkpoint_state_sparse_1gib", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "checkpoint's state is 1.0 GiB; at most",
         setup=_checkpoint(_sparse("state.npz", GIB)), no_out="{tmp}/o"),
    Case("checkpoint_state_inflated", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "arrays take more than 64.7 MiB once unpacked",
         setup=_checkpoint(_inflated_state), no_out="{tmp}/o"),
    Case("checkpoint_state_header_lies", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "its header does not match its size", setup=_checkpoint(_lying_header),
         no_out="{tmp}/o"),
    Case("checkpoint_state_changed", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "state.npz: damaged checkpoint: changed since it was written",
         setup=_checkpoint(_flip_a_byte), no_out="{tmp}/o"),
    Case("checkpoint_scenario_changed", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "scenario.toml: damaged checkpoint: changed since it was written",
         setup=_checkpoint(lambda ck: (ck / "scenario.toml").write_text(
             (ck / "scenario.toml").read_text().replace("friend_weight = 0.2",
                                                        "friend_weight = 0.3"))),
         no_out="{tmp}/o"),
    Case("checkpoint_without_hashes", ["run", "--from", "ck", "--out", "o", "--quiet"], 2,
         "expected the SHA-256 of state.npz and scenario.toml",
         setup=_checkpoint(lambda ck: _edit_json(ck / "checkpoint.json",
                                                 lambda m: m.pop("sha256"))),
         no_out="{tmp}/o"),
    Case("checkpoint_ok", ["run", "--from", "ck", "--out", "o", "--quiet"], 0, "wrote o",
         setup=_checkpoint()),
    # ---- partial folders of processes that ended: named, cleaned
    Case("run_names_stale_partials", ["run", "seed", "--people", "50", "--days", "2",
                                      "--quiet", "--out", "o"], 0,
         "of processes that have ended: old.partial-", setup=_partials, after=_kept),
    Case("run_names_stale_partials_and_the_command", ["run", "seed", "--people", "50",
                                                      "--days", "2", "--quiet", "--out",
                                                      "o"], 0,
         "; remove them with: scoresim clean .", setup=_partials, absent="busy.partial"),
    Case("clean_removes_only_those_of_ended_processes", ["clean", "."], 0,
         "removed old.partial-", setup=_partials, after=_cleaned, absent="busy.partial"),
    Case("clean_dry_run_removes_nothing", ["clean", ".", "--dry-run"], 0,
         "would remove sw/runs/k.parquet.partial-", setup=_partials, after=_kept),
    Case("clean_missing_folder", ["clean", "nowhere"], 2, "nowhere: no such folder"),
    # ---- control characters and long paths in messages
    Case("osc52_in_a_value", ["validate", "s.toml"], 2, "got \\x1b]52;c;aGVsbG8=\\x07.",
         {"s.toml": SEED + '[people]\ncount = "\\u001b]52;c;aGVsbG8=\\u0007"\n'},
         absent="\x1b"),
    Case("escape_in_a_file_name", ["validate", "\x1b[2J\x1b]0;x\x07.toml"], 2,
         "\\x1b[2J\\x1b]0;x\\x07.toml: no such preset", absent="\x1b"),
    Case("escape_in_a_set_key", ["show", "seed", "--set", "x\x1b[31m\u202e=1"], 2,
         "unknown key `x\\x1b[31m\\u202e`", absent="\x1b"),
    Case("escape_in_an_option", ["run", "seed", "--people", "\x1b]52;c;x\x07"], 2,
         "Invalid value for '--people'", absent="\x1b"),
    Case("long_report_path_is_cut", ["report", "x" * 250 + "/" + "y" * 250], 2,
         "(421 more characters): no such run or comparison folder", absent="y" * 100),
    # ---- query: a connection that can open no file, bounded in time and memory
    Case("query_explain_analyze_copy_over_a_table",
         ["query", "{run}", "EXPLAIN ANALYZE COPY (SELECT 42 AS x) TO "
                            "'{run}/outcomes.parquet' (FORMAT parquet)"], 2,
         "file system operations are disabled", after=_run_folder_intact),
    Case("query_copy_into_the_folder_and_tmp",
         ["query", "{run}", "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '.tmp/x.csv'"], 2,
         "file system operations are disabled", after=_run_folder_intact),
    Case("query_reads_etc_passwd", ["query", "{run}", "SELECT * FROM read_csv('/etc/passwd')"],
         2, "file system operations are disabled", absent="root:", after=_run_folder_intact),
    Case("query_reads_a_file_of_the_folder_by_path",
         ["query", "{run}", "SELECT count(*) FROM read_parquet('{run}/people.parquet')"], 2,
         "file system operations are disabled"),
    Case("query_table_linked_outside", ["query", "{run}", "SELECT count(*) FROM people"], 2,
         "people", setup=_link_table_outside),
    Case("query_set_external_access", ["query", "{run}", "SET enable_external_access = true"],
         2, "one SELECT statement"),
    Case("query_unbounded_time", ["query", "{run}", "SELECT count(*) FROM range(1000000000000) "
                                  "t1", "--timeout", "1"], 2, "stopped after 1 s (--timeout 1)"),
    Case("query_unbounded_memory", ["query", "{run}", "SELECT list(range) FROM "
                                    "range(2000000000)", "--memory-limit", "200MB"], 2,
         "needs more memory than --memory-limit 200MB", after=_run_folder_intact),
    Case("query_sort_spills_nothing", ["query", "{run}", "SELECT * FROM range(100000000) "
                                       "ORDER BY random()", "--memory-limit", "100MB"], 2,
         "needs more memory", after=_run_folder_intact),
    Case("query_bad_memory_limit", ["query", "{run}", "SELECT 1", "--memory-limit", "lots"], 2,
         "--memory-limit 'lots': expected a size"),
    Case("query_rich_markup_in_a_value", ["query", "{run}", "SELECT '[/x]' AS \"[b]v\""], 0,
         "[/x]"),
    # ---- second round (issue 31): the smaller defects
    Case("regions_beyond_int16", ["run", "s.toml", "--people", "300", "--days", "2", "--quiet",
                                  "--set", "output.figures=false", "--set",
                                  "output.report=false", "--out", "o"], 0, "wrote o",
         {"s.toml": _many_regions()}),
    Case("calibrate_integer_without_integers", ["calibrate", "c.toml", "--out", "o"], 2,
         "no whole number lies between low = 0.5 and high = 0.7",
         {"c.toml": calibration(key="people.count", low=0.5, high=0.7).replace(
             "high = 0.7\n", "high = 0.7\ninteger = true\n")}, no_out="{tmp}/o"),
    Case("calibrate_storage_not_sqlite", ["calibrate", "c.toml", "--out", "o", "--storage",
                                          "sqlite:///{tmp}/passwd"], 2,
         "passwd is not an SQLite database", {"c.toml": calibration(), "passwd": "root:x:0:0\n"},
         no_out="{tmp}/passwd.lock"),
    Case("calibrate_storage_etc_passwd", ["calibrate", "c.toml", "--out", "o", "--storage",
                                          "sqlite:////etc/passwd"], 2,
         "is not an SQLite database", {"c.toml": calibration()}, no_out="/etc/passwd.lock"),
    Case("calibrate_storage_in_memory", ["calibrate", "c.toml", "--out", "o", "--storage",
                                         "sqlite:///:memory:"], 2,
         "an in-memory SQLite database ends with the process", {"c.toml": calibration()},
         no_out="{tmp}/o"),
    Case("calibrate_storage_other_sqlite_database", ["calibrate", "c.toml", "--out", "o",
                                                     "--storage", "sqlite:///{tmp}/mine.db"], 2,
         "is an SQLite database of something else (it holds the table 'notes')",
         {"c.toml": calibration()}, setup=_other_sqlite, no_out="{tmp}/mine.db.lock"),
    Case("calibrate_storage_fifo", ["calibrate", "c.toml", "--out", "o", "--storage",
                                    "sqlite:///{tmp}/f.db"], 2, "f.db is not a regular file",
         {"c.toml": calibration()}, setup=_fifo("f.db"), no_out="{tmp}/o"),
    Case("resolved_scenario_unreadable_again", ["validate", "s.toml"], 2,
         "the resolved scenario (the scenario.toml a run writes) would be 1.7 MiB",
         {"s.toml": SEED + "[people]\ncount = 200000\n[people.thresholds]\ndistribution = "
                    '"list"\nvalues = [' + ",".join(["0"] * 200_000) + "]\n"}),
    Case("app_port_out_of_range", ["app", "--port", "99999"], 2, "Invalid value for '--port'"),
    Case("ctrl_c_inside_compiled_code", ["show", "seed"], 130, "interrupted: nothing was written",
         patch={"scoresim.scenario.loading:load_scenario": _interrupted_in_compiled_code}),
    Case("odd_out_exists", ["odd", "seed", "--out", "o.md"], 2,
         "o.md: --out exists already; choose another file, or pass --force", {"o.md": "mine"}),
    Case("odd_out_fifo", ["odd", "seed", "--out", "o.md", "--force"], 2,
         "--out must be a regular file (or a new file's name), not a pipe",
         setup=_fifo("o.md")),
    Case("sweep_plan_said_at_once", ["sweep", "w.toml", "--out", "o"], 2,
         "w.toml: 3 design points x 1 seeds = 3 runs; checking every point's scenario",
         {"w.toml": sweep().replace("[0.0, 0.4]", '[0.0, 0.4, "x"]')}, no_out="{tmp}/o"),
    Case("sweep_check_progress", ["sweep", "w.toml", "--out", "o"], 2,
         "checked 2 of 3 design points",
         {"w.toml": sweep().replace("[0.0, 0.4]", '[0.0, 0.4, "x"]')},
         patch={"scoresim.experiments.sweep:PROGRESS_EVERY_S": 0.0}, no_out="{tmp}/o"),
    Case("bom_is_named", ["validate", "s.toml"], 2,
         "starts with a byte order mark (BOM", {"s.toml": SEED.encode("utf-8-sig")}),
    Case("date_beyond_the_calendar", ["validate", "s.toml"], 2,
         "`start` (9999-12-01): a run's days lie between 1000-01-01 and 8999-12-31",
         {"s.toml": SEED + "start = 9999-12-01\nend = 9999-12-31\n"}),
    Case("days_past_the_calendar", ["run", "s.toml", "--days", "36000", "--out", "o"], 2,
         "days 36,000: from `start` (8999-01-01) the run would end on 9097-07-25",
         {"s.toml": SEED + "start = 8999-01-01\nend = 8999-01-31\n[phases]\n"
                    "voluntary = 2018-01-01\n"}, no_out="{tmp}/o"),
    Case("set_named_in_a_whole_scenario_error", ["show", "seed", "--set", "end=2017-01-01"], 2,
         "with --set end=2017-01-01: key `(top level)`: `end` (2017-01-01) is before"),
    Case("long_path_is_cut", ["validate", "/tmp/" + "y/" * 300 + "a.toml"], 2,
         "(531 more characters): no such preset or scenario file"),
    Case("long_os_error_path_is_cut", ["report", "{tmp}/" + "y" * 300], 2,
         "more characters): File name too long", max_chars=400),
    Case("out_too_deep", ["run", "seed", "--out", "y/" * 1500], 2,
         "a path of 1,500 folders; at most 256 are made", no_out="{tmp}/y"),
    # ---- commands of this round: ablate, clean
    Case("ablate_no_replicates", ["ablate", "seed", "--replicates", "0", "--out", "o"], 2,
         "--replicates: expected a number >= 1, got 0.", no_out="{tmp}/o"),
    Case("clean_a_missing_folder", ["clean", "{tmp}/missing"], 2, "missing: no such folder"),
]
