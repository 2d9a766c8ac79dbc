"""A test-only kind: a job that kills its worker every time (the fault suite's loop breaker test)."""
