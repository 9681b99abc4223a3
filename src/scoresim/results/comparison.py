"""A comparison folder: effects of scenario B against A over replicate seeds, what is
kept of them (effects, replicates, series, figures, report) and how it is read back.
:func:`scoresim.experiments.compare.compare` runs the replicates and makes one."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scoresim.errors import ScenarioError, cut
from scoresim.results import wording
from scoresim.results.outdir import OutputFolder
from scoresim.results.run_folder import atomic_folder
from scoresim.scenario.schema import Scenario


@dataclass
class Comparison:
    a: Scenario
    b: Scenario
    seeds: list[int]
    effects: pd.DataFrame
    replicates: pd.DataFrame
    series: pd.DataFrame
    metadata: dict[str, Any]
    #: One row per (seed, day): the SERIES of both scenarios per replicate (for the bands
    #: over time); None for folders written before it was kept.
    replicate_series: pd.DataFrame | None = None
    #: With ``--uncertainty N`` (:mod:`scoresim.experiments.uncertainty`): each effect's
    #: seeds-only interval beside its intervals over the assumptions and seeds; the drawn
    #: parameter sets (one row each); the effects of every set and seed; the first-order
    #: sensitivity of each effect to each assumption. None otherwise.
    uncertainty: pd.DataFrame | None = None
    draws: pd.DataFrame | None = None
    draw_effects: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None

    def save(self, out: Path, folder: OutputFolder | None = None) -> Path:
        """Write the comparison folder atomically (``folder``: claimed before the runs)."""
        with atomic_folder(out, folder) as tmp:
            pq.write_table(pa.Table.from_pandas(self.effects, preserve_index=False),
                           tmp / "effects.parquet")
            self.effects.to_csv(tmp / "effects.csv", index=False)
            pq.write_table(pa.Table.from_pandas(self.replicates, preserve_index=False),
                           tmp / "replicates.parquet")
            pq.write_table(pa.Table.from_pandas(self.series, preserve_index=False),
                           tmp / "series.parquet")
            if self.replicate_series is not None:
                pq.write_table(pa.Table.from_pandas(self.replicate_series,
                                                    preserve_index=False),
                               tmp / "replicate_series.parquet")
            for name in UNCERTAINTY_TABLES:
                table = getattr(self, name)
                if table is not None:
                    pq.write_table(pa.Table.from_pandas(table, preserve_index=False),
                                   tmp / f"{name}.parquet")
                    table.to_csv(tmp / f"{name}.csv", index=False)
            figures = write_comparison_figures(self, tmp)
            from scoresim.results.integrity import folder_digests

            (tmp / "comparison.json").write_text(
                json.dumps({**self.metadata, "figures": figures,
                            "sha256": folder_digests(tmp)}, indent=2, default=str),
                encoding="utf-8")
            from scoresim.results.report import write_page

            write_page(tmp, comparison_report(tmp))
        return out

    @classmethod
    def load(cls, folder: Path) -> Comparison:
        from pydantic import ValidationError

        from scoresim.limits import META_MAX_BYTES, read_text

        path = folder / "comparison.json"
        per_seed = folder / "replicate_series.parquet"
        try:
            meta = json.loads(read_text(path, "comparison file", META_MAX_BYTES))
            if isinstance(meta, dict) and "sha256" in meta:
                from scoresim.results.integrity import verify

                verify(folder, meta["sha256"], "comparison.json")
            return cls(
                a=Scenario.model_validate(meta["a_scenario"]),
                b=Scenario.model_validate(meta["b_scenario"]),
                seeds=list(meta["seeds"]),
                effects=pd.read_parquet(folder / "effects.parquet"),
                replicates=pd.read_parquet(folder / "replicates.parquet"),
                series=pd.read_parquet(folder / "series.parquet"),
                metadata=meta,
                replicate_series=pd.read_parquet(per_seed) if per_seed.is_file() else None,
                **{name: pd.read_parquet(folder / f"{name}.parquet")
                   for name in UNCERTAINTY_TABLES
                   if (folder / f"{name}.parquet").is_file()},
            )
        except (ValueError, KeyError, TypeError, RecursionError, OSError, pa.ArrowException,
                ValidationError) as exc:
            if isinstance(exc, ScenarioError):
                raise
            raise ScenarioError(f"{folder}: a damaged comparison folder ({type(exc).__name__}: "
                                f"{cut(str(exc), 120)}); run `scoresim compare` again.") \
                from None


#: The tables of a comparison with ``--uncertainty`` (files NAME.parquet and NAME.csv).
UNCERTAINTY_TABLES = ("uncertainty", "draws", "draw_effects", "sensitivity")


def write_comparison_figures(cmp: Comparison, folder: Path) -> list[str]:
    """Write effects.png and series.png (:mod:`scoresim.results.comparison_charts`)."""
    from scoresim.results.comparison_charts import comparison_charts

    written = []
    for chart in comparison_charts(cmp):
        (folder / chart.name).write_bytes(chart.png())
        chart.close()
        written.append(chart.name)
    return written


def comparison_report(folder: Path) -> str:
    from scoresim.results.comparison_charts import comparison_charts
    from scoresim.results.report import _figure, _page, _summary_box, _table

    cmp = Comparison.load(folder)
    eff = cmp.effects[["label", "summary", "a_mean", "b_mean", "effect", "ci_low",
                       "ci_high"]].rename(columns={"a_mean": cmp.a.name, "b_mean": cmp.b.name,
                                                   "ci_low": "95% low", "ci_high": "95% high"})
    effects_fig, series_fig = comparison_charts(cmp)
    body = [
        f"<h1>scoresim comparison: {html.escape(cmp.b.name)} against "
        f"{html.escape(cmp.a.name)}</h1>",
        "<p class='note'>Everyone in this simulation is synthetic.</p>",
        _summary_box(wording.comparison_lead(cmp), wording.comparison_summary(cmp)),
        f"<p>{len(cmp.seeds)} replicate seeds ({cmp.seeds[0]}..{cmp.seeds[-1]}), "
        f"{cmp.metadata['people']:,} people, {cmp.metadata['days']} days. Both scenarios run "
        "with common random numbers: the same people, network and draws wherever their "
        "policies do not differ. Effects are B minus A per seed, with a 95% t-interval.</p>",
        _society_warning(cmp.metadata.get("different_societies")),
        "<h2>Effects</h2>", _figure(effects_fig), _table(eff, 4),
        "<h2>Over time (mean over replicates, 95% interval bands)</h2>", _figure(series_fig),
        *_uncertainty_section(cmp, _table),
    ]
    return _page(f"scoresim: {cmp.b.name} vs {cmp.a.name}", body)


def _uncertainty_section(cmp: Comparison, table) -> list[str]:
    if cmp.uncertainty is None:
        return []
    meta = cmp.metadata.get("uncertainty", {})
    u = cmp.uncertainty[["label", "effect", "seeds_low", "seeds_high", "uncertain_low",
                         "uncertain_high", "parameters_low", "parameters_high"]].rename(
        columns={"seeds_low": "seeds 95% low", "seeds_high": "seeds 95% high",
                 "uncertain_low": "assumptions+seeds 2.5%",
                 "uncertain_high": "assumptions+seeds 97.5%",
                 "parameters_low": "assumptions 2.5%", "parameters_high": "assumptions 97.5%"})
    out = ["<h2>What we do not know: intervals over the assumptions</h2>",
           f"<p>{meta.get('parameter_sets', '?')} parameter sets drawn by Latin hypercube over "
           f"the ranges of {len(meta.get('ranges', {}))} assumptions (docs/parameters.md), "
           "each run with every replicate seed: the effect's interval over both beside the "
           "seeds-only interval at the documented values.</p>", table(u, 4)]
    if cmp.sensitivity is not None and not cmp.sensitivity.empty:
        top = (cmp.sensitivity.sort_values("S1", ascending=False).groupby("outcome")
               .head(3))
        out += ["<h3>Which assumptions drive each effect (first-order RBD-FAST indices, the "
                "three largest)</h3>", table(top, 3)]
    return out


def _society_warning(keys) -> str:
    if not keys:
        return ""
    return ("<p><strong>Warning:</strong> the two scenarios describe different societies "
            f"(they differ in {html.escape(', '.join(map(str, keys)))}): the effects mix the "
            "policy with the society.</p>")
