"""The landing zone: a deterministic generator of the four source systems' files and the
staging step that turns them into the uniform Parquet layout dbt reads.

Modules: :mod:`.generator` (orchestration, ``landing generate``), :mod:`.dialects` (systems,
field names, encodings), :mod:`.master` (meters, customers, contracts, tariffs and their
change sets), :mod:`.readings` (hourly readings), :mod:`.faults` (fault kinds, quarantine
reasons and their precedence), :mod:`.truth` (the per-day truth file), :mod:`.stage`
(``landing stage``) with its parsers :mod:`.parse_csv`, :mod:`.parse_jsonl`,
:mod:`.parse_parquet` and their shared :mod:`.records`, :mod:`.cli`. The contracts are
written up in ``docs/landing.md``.
"""
