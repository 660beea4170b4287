"""platform-tools report: one self-contained HTML page, Markdown and JSON for all teams."""
