"""`make fuzz`: Schemathesis against the mock's own OpenAPI, and a coverage-guided ingest fuzz."""
