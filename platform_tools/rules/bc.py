"""BC rules: breaking changes of a node between a baseline manifest and the current one.

``platform-tools deps --baseline`` reports them (:mod:`platform_tools.deps.breaking` finds
the nodes to compare and the teams, models and exposures each break reaches). A break is an
error when the model is public, or when anything of another team or any exposure sits
downstream; otherwise a warning: the rulebook records their severity as ``None``.

A change is allowed when it ships as a new model version with the old version kept: the old
version is compared with itself and the new one has no baseline. When an unversioned model
becomes versioned, it is unchanged if any of its versions is compatible with the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from platform_tools.artifacts.manifest import Column, Node
from platform_tools.rules.rulebook import rule

ACCESS_RANK = {"private": 0, "protected": 1, "public": 2}
_TYPE_SYNONYMS = {
    "integer": "int",
    "long": "bigint",
    "short": "smallint",
    "byte": "tinyint",
    "bool": "boolean",
    "real": "float",
    "text": "string",
    "varchar": "string",
}


def normalise_type(data_type: str | None) -> str | None:
    """Lower case, no spaces, common Spark synonyms folded (``integer`` = ``int``)."""
    if data_type is None:
        return None
    text = data_type.strip().lower().replace(" ", "")
    return _TYPE_SYNONYMS.get(text, text)


@dataclass(frozen=True, slots=True)
class Change:
    code: str
    kind: str
    message: str


@rule("BC001", "model-removed", None)
def model_removed(old: Node, *, disabled: bool) -> Iterator[Change]:
    """A model was removed or disabled.

    Rationale: every model, seed or snapshot of the baseline's root project is a table
    someone may read; removing or disabling it breaks every reader at their next build
    (nodes of installed packages are not compared: a package upgrade is not the project's
    break).

    Example: deleting ``models/metering/gold/dim_meters.sql``, or ``+enabled: false`` on it.

    Fix: keep the model until its readers have moved (set a ``deprecation_date`` and tell
    the teams downstream), then remove it.
    """
    if disabled:
        yield Change("BC001", "model disabled", f"{old.label} is disabled")
    else:
        yield Change("BC001", "model removed", f"{old.label} was removed")


@rule("BC002", "column-removed", None)
def column_removed(old: Node, new: Node) -> Iterator[Change]:
    """A column was removed or renamed.

    Rationale: a reader selecting the column fails. A removed column and an added one of the
    same declared type are reported as *renamed*; when either type is unknown (no declared
    ``data_type``) nothing says the two are one column, and it stays *removed*.

    Example: dropping ``meter_type`` from ``dim_meters`` and its YAML.

    Fix: ship the change as a new model version with the old one kept and a
    ``deprecation_date`` (docs/pull_requests.md).
    """
    new_columns = {c.name.lower(): c for c in new.columns}
    old_columns = {c.name.lower(): c for c in old.columns}
    removed = [c for name, c in old_columns.items() if name not in new_columns]
    added = [c for name, c in new_columns.items() if name not in old_columns]
    renamed = _pair_renames(removed, added)
    for col in removed:
        if col.name in renamed:
            yield Change(
                "BC002", "column renamed", f"column {col.name} renamed to {renamed[col.name]}"
            )
        else:
            yield Change("BC002", "column removed", f"column {col.name} removed")


@rule("BC003", "data-type-changed", None)
def data_type_changed(old: Node, new: Node) -> Iterator[Change]:
    """A column's data type changed.

    Rationale: readers cast, compare and aggregate by type; a changed type breaks them or,
    worse, changes their results silently. Spark synonyms (``integer`` and ``int``) are the
    same type.

    Example: ``consumption_kwh`` declared ``decimal(18,3)`` becomes ``double``.

    Fix: ship the change as a new model version, or keep the type and add a new column.
    """
    new_columns = {c.name.lower(): c for c in new.columns}
    for name, col in {c.name.lower(): c for c in old.columns}.items():
        other = new_columns.get(name)
        if other is None:
            continue
        before, after = normalise_type(col.data_type), normalise_type(other.data_type)
        if before and after and before != after:
            yield Change(
                "BC003", "data type changed",
                f"column {col.name} changed type {col.data_type} -> {other.data_type}",
            )


@rule("BC004", "contract-removed", None)
def contract_removed(old: Node, new: Node) -> Iterator[Change]:
    """An enforced contract was removed.

    Rationale: the contract is what makes dbt check column names and types at build time;
    without it the next breaking change reaches the consumers unnoticed.

    Example: ``contract: {enforced: false}`` on a model that had ``enforced: true``.

    Fix: keep the contract enforced; declare every column with its ``data_type``.
    """
    if old.contract_enforced and not new.contract_enforced:
        yield Change("BC004", "contract removed", "enforced contract removed")


@rule("BC005", "access-narrowed", None)
def access_narrowed(old: Node, new: Node) -> Iterator[Change]:
    """A model's access was narrowed.

    Rationale: access says who may read a model (public, then protected, then private);
    narrowing it makes the references of other groups fail at parse time.

    Example: ``access: public`` becomes ``access: protected``.

    Fix: keep the access until no other group reads the model (``platform-tools deps``
    lists its readers), then narrow it.
    """
    before = ACCESS_RANK.get(old.access or "")
    after = ACCESS_RANK.get(new.access or "")
    if before is not None and after is not None and after < before:
        yield Change("BC005", "access narrowed", f"access narrowed {old.access} -> {new.access}")


@rule("BC006", "version-removed", None)
def version_removed(old: Node, *, remaining: list[Node]) -> Iterator[Change]:
    """A model version was removed.

    Rationale: readers pin a version (``ref('dim_customers', v=1)``); removing it while
    other versions remain breaks those readers, however old the version.

    Example: deleting ``v: 1`` of ``dim_customers`` while v2 stays.

    Fix: set a ``deprecation_date`` on the old version and remove it once no one reads it.
    """
    kept = ", ".join(s.label for s in remaining)
    yield Change("BC006", "version removed", f"version {old.label} removed (remaining: {kept})")


# The comparisons of two variants of one node, in the order their changes are reported.
COMPARISONS: tuple[Callable[[Node, Node], Iterator[Change]], ...] = (
    column_removed,
    data_type_changed,
    contract_removed,
    access_narrowed,
)


def compare_node(old: Node, new: Node) -> list[Change]:
    """The breaking differences between two variants of one node."""
    return [change for compare in COMPARISONS for change in compare(old, new)]


def _pair_renames(removed: list[Column], added: list[Column]) -> dict[str, str]:
    """Pair removed and added columns of the same *known* type, in declaration order.

    Without a declared data type on both sides nothing says the two are one column, so a
    removed column stays *removed* (never "renamed" to an unrelated new column)."""
    pairs: dict[str, str] = {}
    free = list(added)
    for col in removed:
        before = normalise_type(col.data_type)
        if before is None:
            continue
        for candidate in free:
            if normalise_type(candidate.data_type) == before:
                pairs[col.name] = candidate.name
                free.remove(candidate)
                break
    return pairs
