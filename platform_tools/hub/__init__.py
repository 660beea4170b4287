"""The ingestion hub: a long-running process that builds each batch as it lands.

``platform-tools hub`` watches the landing zone; when files land it stages them
(:func:`platform_tools.landing.stage.stage`) and runs ``dbt build`` on the selection in the
same, already warm, Python process (:class:`.dbt_session.WarmDbt`: dbt imported once, the
parsed manifest reused while the project is unchanged). Modules: :mod:`.signatures` (what
changed in the landing zone and in the dbt project), :mod:`.dbt_session`, :mod:`.service`
(the loop, the lock and the batch log), :mod:`.cli`. See ``docs/hub.md``.
"""
