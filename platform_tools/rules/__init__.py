"""The platform's rules: every code a platform tool reports, in one place.

- :mod:`~platform_tools.rules.rulebook`: the :class:`~platform_tools.rules.rulebook.Rule`
  record and the one decorator, :func:`~platform_tools.rules.rulebook.rule`, that registers
  a rule under its code and reads its documentation from the docstring.
- :mod:`~platform_tools.rules.gu`: **GU** ownership and boundary rules on one manifest
  (``platform-tools deps``).
- :mod:`~platform_tools.rules.bc`: **BC** breaking changes against a baseline manifest
  (``platform-tools deps --baseline``).
- :mod:`~platform_tools.rules.pr`: **PR** change rules of a pull request
  (``platform-tools pr-contracts``).
- :mod:`~platform_tools.rules.formats` and :mod:`~platform_tools.rules.docs`: the listing
  (``platform-tools rules``) and the generated rules section of ``docs/platform_tools.md``.
"""
