"""platform-tools deps: cross-team dependency rules, team dependencies, breaking changes."""
