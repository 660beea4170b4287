"""GridUnion Continental platform tools: engine lifecycle, landing zone, dbt artifact analysis."""

__version__ = "0.1.0"
