"""Scenarios: the schema, loading (presets, files, extends), conditions, generated docs."""
