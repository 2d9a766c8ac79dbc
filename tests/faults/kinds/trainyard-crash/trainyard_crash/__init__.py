"""Test-only kinds: a job that kills its worker every time (the fault suite's loop breaker test), and one
whose cleanup fails when its worker's child is terminated (tests/faults/test_redis_restart.py)."""
