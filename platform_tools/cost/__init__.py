"""platform-tools cost: chargeback per team from run results and Delta table storage."""
