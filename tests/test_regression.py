"""A fresh run of each regression case against tests/data/regression.json (see
tests/regression.py for what is kept, the tolerances and the command that regenerates it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from regression import CASES, FILE, RTOL, case_key, summary


@pytest.mark.parametrize("case", CASES, ids=[case_key(*c) for c in CASES])
def test_results_match_the_regression_file(case):
    want = json.loads(FILE.read_text(encoding="utf-8"))[case_key(*case)]
    got = summary(*case)
    assert got.keys() == want.keys(), "outcome columns changed: regenerate the file"
    for col, w in want.items():
        g = got[col]
        for part in ("yearly_mean", "final"):
            a = np.array(w[part] if part == "yearly_mean" else [w[part]], dtype=float)
            b = np.array(g[part] if part == "yearly_mean" else [g[part]], dtype=float)
            if w["whole"] and part == "final":
                np.testing.assert_array_equal(b, a, err_msg=f"{col} {part}")
            else:
                np.testing.assert_allclose(b, a, rtol=RTOL, atol=1e-12, err_msg=f"{col} {part}")
