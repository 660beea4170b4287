"""A long life of the platform, day by day through the hub, reconciled with the truth."""
