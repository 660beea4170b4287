"""Allow ``python -m platform_tools``."""

from platform_tools.cli import main

raise SystemExit(main())
