"""Artifact builders, a synthetic project generator and GridUnion scenarios, for the tests
and benchmarks (not part of the wheel)."""
