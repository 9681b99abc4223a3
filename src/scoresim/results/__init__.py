"""Results: the outcome table, the ledger, the run folder, figures, reports, explanations."""
