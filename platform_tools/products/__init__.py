"""The data products: every public model by domain with its owner, SLA, version status,
consumers and latest health (``platform-tools products``)."""
