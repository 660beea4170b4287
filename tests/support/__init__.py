"""Artifact builders, a synthetic project generator and GridUnion scenarios."""
