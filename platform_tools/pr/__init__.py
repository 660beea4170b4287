"""Pull-request workflow: the offline part of ``.pre-commit-config.yaml`` (``pr-check``), the
contract and ownership gate (``pr-contracts``) and slim CI with a review comment (``pr-ci``).

See ``docs/pull_requests.md``.
"""
