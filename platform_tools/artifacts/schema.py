"""Typed views of dbt artifacts for :mod:`msgspec`: only the fields the tools read.

``msgspec.json`` decodes an artifact straight into these structs and skips every other key
(``raw_code``, ``compiled_code``, ``checksum``, ``parent_map``, ``child_map``...) without
building Python objects for them. The types are as lenient as the readers built on them:
a leaf the tools pass through ``as_str``/``as_dict`` is ``Any``; a nested object the tools
read into is ``Lenient`` (the struct, or any other JSON value, which the reader takes for an
empty object). What the structs require is what ``_io.check_shape`` requires of the file, so
a file the decoder refuses is one the generic path (``_io.parse_artifact``) rejects with its
one-line error.

Structs are ``gc=False``: decoded JSON holds no reference cycles.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

_Other: TypeAlias = list[Any] | str | int | float | bool | None  # any JSON but an object


class Skipped(msgspec.Struct, gc=False):
    """A JSON object whose content is not read (``semantic_models``, ``metrics``): counted."""


class Metadata(msgspec.Struct, gc=False):
    """``metadata`` of any artifact (each kind reads some of these)."""

    dbt_schema_version: Any = None
    dbt_version: Any = None
    invocation_id: Any = None
    generated_at: Any = None
    invocation_started_at: Any = None
    project_name: Any = None
    adapter_type: Any = None


class Artifact(msgspec.Struct, gc=False):
    metadata: Metadata


class NodeConfig(msgspec.Struct, gc=False):
    enabled: Any = True
    meta: Any = None
    group: Any = None
    access: Any = None
    materialized: Any = None
    contract: Any = None


class ColumnDoc(msgspec.Struct, gc=False):
    name: Any = None
    description: Any = None
    data_type: Any = None
    constraints: Any = None


class DependsOn(msgspec.Struct, gc=False):
    nodes: Any = None


class TestMetadata(msgspec.Struct, gc=False):
    name: Any = None


class NodeDoc(msgspec.Struct, gc=False):
    """A node of ``nodes``, ``unit_tests`` or ``disabled``."""

    unique_id: Any = msgspec.UNSET  # required by the reader (a KeyError there), not here
    name: Any = None
    resource_type: Any = None
    package_name: Any = None
    original_file_path: Any = None
    path: Any = None
    patch_path: Any = None
    database: Any = None
    schema: Any = None
    alias: Any = None
    relation_name: Any = None
    group: Any = None
    access: Any = None
    meta: Any = None
    description: Any = None
    version: Any = None
    latest_version: Any = None
    deprecation_date: Any = None
    tags: Any = None
    constraints: Any = None
    column_name: Any = None
    attached_node: Any = None
    contract: Any = None  # a small object, read with `or` (an empty one falls to config's)
    config: NodeConfig | _Other = None
    columns: dict[str, ColumnDoc | _Other] | _Other = None
    depends_on: DependsOn | _Other = None
    test_metadata: TestMetadata | _Other = None


class ManifestDoc(Artifact):
    """``manifest.json``: the collections of ``_io._SHAPE['manifest']`` with their item types.
    Sources, exposures, groups and disabled nodes are few: they stay JSON objects."""

    nodes: dict[str, NodeDoc]
    sources: dict[str, dict[str, Any]] | None = None
    exposures: dict[str, dict[str, Any]] | None = None
    groups: dict[str, dict[str, Any]] | None = None
    disabled: dict[str, list[Any]] | None = None
    unit_tests: dict[str, NodeDoc] | None = None
    semantic_models: dict[str, Skipped] | None = None
    metrics: dict[str, Skipped] | None = None
