"""The ``domain:`` node selection method for the stock dbt CLI."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fnmatch import fnmatch
from typing import Any

from dbt.graph import selector_methods
from dbt_common.exceptions import DbtRuntimeError

METHOD_NAME = "domain"


def node_domain(node: Any) -> str | None:
    """The ``meta.domain`` of a manifest node, source or exposure, if it has one."""
    config = getattr(node, "config", None)
    meta = getattr(config, "meta", None) or {}
    domain = meta.get("domain") if isinstance(meta, dict) else None
    if domain is None:
        own_meta = getattr(node, "meta", None) or {}
        domain = own_meta.get("domain") if isinstance(own_meta, dict) else None
    return str(domain) if domain else None


def known_domains(nodes: Iterable[Any]) -> list[str]:
    return sorted({d for d in (node_domain(n) for n in nodes) if d})


class DomainSelectorMethod(selector_methods.SelectorMethod):
    """``domain:<name>`` — resources whose ``meta.domain`` matches (shell wildcards allowed)."""

    def search(self, included_nodes: set[Any], selector: str) -> Iterator[Any]:
        manifest = self.manifest
        everything = [
            *manifest.nodes.values(),
            *manifest.sources.values(),
            *manifest.exposures.values(),
        ]
        domains = known_domains(everything)
        if not any(fnmatch(domain, selector) for domain in domains):
            raise DbtRuntimeError(
                f"unknown domain '{selector}' in selector 'domain:{selector}'; "
                f"known domains: {', '.join(domains) or '(none: no node sets meta.domain)'}"
            )
        for unique_id, node in self.all_nodes(included_nodes):
            domain = node_domain(node)
            if domain is not None and fnmatch(domain, selector):
                yield unique_id


def install_domain_method() -> None:
    """Register ``domain`` as a selector method name (idempotent)."""
    method_enum: Any = selector_methods.MethodName
    member = method_enum._value2member_map_.get(METHOD_NAME)
    if member is None:
        member = str.__new__(method_enum, METHOD_NAME)
        member._name_ = "Domain"
        member._value_ = METHOD_NAME
        member.__objclass__ = method_enum
        method_enum._member_map_["Domain"] = member
        method_enum._value2member_map_[METHOD_NAME] = member
        method_enum._member_names_.append("Domain")
    manager: Any = selector_methods.MethodManager
    manager.SELECTOR_METHODS[member] = DomainSelectorMethod
