"""The data-product catalog: every public model by domain with its owner, SLA, version status,
consumers and latest health (``platform-tools catalog``)."""
