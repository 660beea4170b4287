"""dbt plugin of the GridUnion platform, loaded by the stock ``dbt`` command.

dbt imports every top-level module whose name starts with ``dbt_`` when it sets up its plugin
manager (``dbt.plugins.manager``, the mechanism dbt-loom uses). Importing this module:

1. adds the node selection method ``domain:`` (``dbt build --select domain:billing``), which
   selects every resource whose ``meta.domain`` matches — models, seeds, snapshots, sources,
   exposures — and, through dbt's indirect selection, their tests; graph and set operators
   work as with any native method. An unknown domain fails with the list of known domains.
   The native equivalent is ``config.meta.domain:billing`` (for models, seeds, snapshots);
2. points ``GRIDUNION_LAKEHOUSE`` at ``<project>/.lakehouse`` when it is unset, so that the
   project's macros and the engine agree on one lakehouse;
3. starts the embedded engine on demand: the first connection that dbt-spark opens through
   the ``session`` method to a Spark Connect URL on this machine runs
   :func:`platform_tools.engine.ensure_running` (start if down, rebuild the catalog if the
   session is new) and asks it again when an analysis answer arrives unreadable
   (:mod:`dbt_gridunion.connect_retry`); under sqlfluff (or ``GRIDUNION_OFFLINE=1``) it
   opens an offline connection instead, so linting needs no engine;
4. records the results of every ``build``/``run``/``test``/``seed``/``snapshot`` into the
   lakehouse run history at exit (``GRIDUNION_RECORD_RUNS=0`` turns it off), for
   ``platform-tools observe``;
5. lets data tests check only the partitions their model replaced (or, for bronze, the
   landing files it appended) in the same invocation, as long as their last run passed with
   nothing written after it (``where: "__partitions_replaced_in_this_build__"``, the record
   ``<lakehouse>/_state/clean_tests.json``; see :mod:`dbt_gridunion.build_scope`);
6. lets one command at a time write the lakehouse: ``build``, ``run``, ``seed``, ``snapshot``,
   ``test``, ``run-operation``, ``clone`` and ``retry`` hold the writer lock of
   :mod:`platform_tools.writer_lock` (a second writer waits, then gives up after
   ``GRIDUNION_LOCK_TIMEOUT`` seconds); read-only commands never wait;
7. writes public models by write-audit-publish (:mod:`dbt_gridunion.wap`): stock
   materializations write ``<alias>__candidate``, tests audit it, and readers of the public
   name get a view pinned to the last Delta version whose tests passed;
8. freezes the garbage collector at exit (after the recording, which ``atexit`` runs first):
   the interpreter's final collection over dbt's object graph cost ~0.8 s of every command
   on these machines, and there is nothing left at exit that needs it.

9. hands the PII pepper to the engine as a temporary view on every connection it opens
   (:mod:`dbt_gridunion.pii_pepper`), so the secret is in no compiled SQL, artifact or log.

10. stops a command whose ``GRIDUNION_*`` variables cannot be used (threads, engine port,
    lock timeout) with one line naming the variable (:mod:`dbt_gridunion.environment`).

11. stops a ``build``/``run`` that reads the landing zone when nothing is staged or the
    staging manifest is unreadable, in one line (:mod:`dbt_gridunion.staging_check`).

12. keeps one current record per view in the view registry ``platform_catalog.relations``
    (:mod:`dbt_gridunion.view_registry`): a view rebuilt with the same definition adds no row.

It changes nothing for a project that neither uses ``domain:`` nor connects to a local engine.
"""

from __future__ import annotations

import atexit
import gc

from dbt_gridunion.build_scope import install_build_scope
from dbt_gridunion.domain_selector import install_domain_method
from dbt_gridunion.engine_hook import install_engine_hook, set_default_lakehouse
from dbt_gridunion.environment import check_environment_for_dbt
from dbt_gridunion.pii_pepper import install_pepper_adapter_method
from dbt_gridunion.run_history import install_run_recorder
from dbt_gridunion.staging_check import install_staging_check
from dbt_gridunion.view_registry import install_view_registry
from dbt_gridunion.wap import install_wap
from dbt_gridunion.writer_hook import install_writer_lock

atexit.register(gc.freeze)  # registered before the recorder, so it runs after it
check_environment_for_dbt()
install_domain_method()
set_default_lakehouse()
install_engine_hook()
install_run_recorder()
install_build_scope()
install_writer_lock()
install_wap()
install_pepper_adapter_method()
install_staging_check()
install_view_registry()

plugins: list[type] = []
