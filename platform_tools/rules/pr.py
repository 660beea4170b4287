"""PR rules: change rules of a pull request, checked by ``platform-tools pr-contracts``.

They apply only to models the change adds or alters (the baseline is the base commit's
manifest), so existing gaps never block an unrelated change: the dbt-checkpoint checks that
matter most, runnable offline. Each is a function ``(current, baseline) -> Iterator[ChangeHit]``
registered with :func:`~platform_tools.rules.rulebook.rule`; the runner is
:func:`platform_tools.pr.contracts.run_change_rules`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from platform_tools.artifacts.manifest import Manifest, Node
from platform_tools.deps.model import Severity
from platform_tools.rules.rulebook import rule


@dataclass(frozen=True)
class ChangeHit:
    node: Node
    message: str


def _changed_models(current: Manifest, baseline: Manifest) -> Iterator[tuple[Node, Node | None]]:
    for node in current.models():
        if node.package_name and current.metadata.project_name and (
            node.package_name != current.metadata.project_name
        ):
            continue
        yield node, baseline.nodes.get(node.unique_id)


@rule("PR001", "model-description-dropped", Severity.ERROR)
def model_description_dropped(current: Manifest, baseline: Manifest) -> Iterator[ChangeHit]:
    """A model added or changed by the pull request has no description.

    Rationale: every model carries a description (docs/conventions.md); it is what the docs
    site shows to the teams that discover and use it. Checked offline for models the change
    adds and models whose description the change removes, so existing gaps never block an
    unrelated change (dbt-checkpoint's `check-model-has-description` covers the rest where it
    can run).

    Example: deleting `description:` of `slv_meters` from `_metering__silver.yml`.
    Fix: describe the model in its folder's properties file.
    """
    for node, old in _changed_models(current, baseline):
        if node.description.strip():
            continue
        if old is None:
            yield ChangeHit(node, f"new model {node.label} has no description")
        elif old.description.strip():
            yield ChangeHit(node, f"{node.label} lost its description in this change")


@rule("PR002", "model-without-properties-file", Severity.ERROR)
def model_without_properties_file(current: Manifest, baseline: Manifest) -> Iterator[ChangeHit]:
    """A model added or changed by the pull request has no properties file entry.

    Rationale: descriptions, column types, tests, tier and SLA live in the folder's
    `_<domain>__<layer>.yml`; a model without an entry has none of them.

    Example: a new `models/billing/silver/slv_discounts.sql` with no `- name: slv_discounts`.
    Fix: add the model to its folder's properties file.
    """
    for node, old in _changed_models(current, baseline):
        if node.patch_path:
            continue
        if old is None:
            yield ChangeHit(node, f"new model {node.label} is not in any properties file")
        elif old.patch_path:
            yield ChangeHit(node, f"{node.label} was removed from its properties file")


def _is_gold(node: Node) -> bool:
    return node.layer == "gold" or "/gold/" in node.original_file_path


@rule("PR003", "gold-model-without-contract", Severity.ERROR)
def gold_model_without_contract(current: Manifest, baseline: Manifest) -> Iterator[ChangeHit]:
    """A non-public gold model added or changed by the pull request has no contract.

    Rationale: gold models are the data products (docs/conventions.md); their columns and
    types are a promise. A public one is covered already: GU010 (public model without an
    enforced contract) and, when the change removed it, BC004. Read from the manifest, so a
    contract switched off in the model's `.sql` config counts as much as one dropped from
    YAML. Only models the change adds, and those whose contract it removes, are reported.

    Example: `{{ config(access='protected', contract={'enforced': false}) }}` in a gold model.
    Fix: `config: {contract: {enforced: true}}` with every column's `data_type`.
    """
    for node, old in _changed_models(current, baseline):
        if not _is_gold(node) or node.contract_enforced or node.is_public:
            continue
        if old is None:
            yield ChangeHit(node, f"new gold model {node.label} has no enforced contract")
        elif old.contract_enforced:
            yield ChangeHit(node, f"{node.label} lost its enforced contract in this change")
