"""platform-tools observe: run history (record_run) and platform health against SLAs."""
