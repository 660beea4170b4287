"""``platform-tools pr-check``, ``pr-contracts`` and ``pr-ci`` (the pull-request workflow)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from platform_tools.artifacts.settings import load_settings
from platform_tools.cliutil import without_gc, write_output
from platform_tools.deps import checks
from platform_tools.deps.formats import to_json, to_markdown
from platform_tools.errors import UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.pr import contracts, precommit, slim_ci
from platform_tools.pr.formats import render_table
from platform_tools.pr.formats import to_markdown as slim_ci_comment
from platform_tools.pr.gitdiff import all_files, changed_files, git, resolve_base
from platform_tools.pr.hooks import CONFIG_FILE, load_config


def register(subparsers: Any) -> None:
    _register_pr_check(subparsers)
    _register_pr_contracts(subparsers)
    _register_pr_ci(subparsers)


def _project_root(value: Path | None) -> Path:
    if value is not None:
        if not value.is_dir():
            raise UsageError(f"--project-dir {value}: not a directory")
        return value.resolve()
    top = git(Path.cwd(), "rev-parse", "--show-toplevel", check=False).strip()
    return Path(top) if top else Path.cwd()


def _add_project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-dir", type=Path, default=None, metavar="DIR",
                        help="the repository / dbt project (default: the git work tree of the "
                        "current directory)")


def _add_base(parser: argparse.ArgumentParser, default_help: str) -> None:
    parser.add_argument("--base", default=None, metavar="REF",
                        help=f"compare with this commit or branch (default: {default_help})")


# -- pr-check ----------------------------------------------------------------------------------
def _register_pr_check(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pr-check",
        help="pre-commit runs the offline hooks of .pre-commit-config.yaml on the files a "
        "change touches",
        description=(
            "Run `pre-commit run` with the `repo: local` hooks of .pre-commit-config.yaml (a "
            "configuration derived from it, in target/pr_check/) on the files changed against "
            "the base (committed, staged, unstaged and untracked), list the hooks of remote "
            "repositories it left out (they need network; --online runs them) and exit 1 when "
            "a hook fails. This is `make pr-check`, what CI runs on every pull request."
        ),
    )
    _add_project(parser)
    _add_base(parser, "origin/main when it exists, else HEAD~1")
    parser.add_argument("--all-files", action="store_true",
                        help="check every tracked and untracked (not ignored) file")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help=f"pre-commit config (default: <project>/{CONFIG_FILE})")
    parser.add_argument("--online", action="store_true",
                        help="run the whole configuration, remote hooks included (pre-commit "
                        "clones their repositories: needs network)")
    parser.add_argument("--hook", action="append", default=[], metavar="ID",
                        help="run only this hook (repeatable)")
    parser.add_argument("--skip", action="append", default=[], metavar="ID",
                        help="do not run this hook (repeatable; also $SKIP, comma-separated, "
                        "as in pre-commit)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show the output of hooks that passed (pre-commit --verbose)")
    parser.set_defaults(handler=handle_pr_check)


def handle_pr_check(args: argparse.Namespace) -> ExitCode:
    root = _project_root(args.project_dir)
    config_path = (args.config or root / CONFIG_FILE).resolve()
    config = load_config(config_path)
    skip = set(args.skip) | {s.strip() for s in os.environ.get("SKIP", "").split(",") if s.strip()}
    unknown = sorted((set(args.hook) | set(args.skip)) - config.hook_ids())
    if unknown:
        raise UsageError(f"--hook/--skip {unknown[0]}: no such hook id in {config.path}; known: "
                         + ", ".join(sorted(config.hook_ids())))
    offline = not args.online
    runnable = config.hook_ids() - ({h.id for h in config.remote_hooks()} if offline else set())
    only = set(args.hook) & runnable
    if args.hook and not only:
        raise UsageError(f"--hook {args.hook[0]}: a remote hook; it runs with --online")
    hook = None
    if len(only) == 1:
        hook = next(iter(only))
    elif only:
        skip |= runnable - only
    if args.all_files:
        base = None
        files = all_files(root)
        print(f"pr-check: {len(files)} file(s) (--all-files)")
    else:
        base = resolve_base(root, args.base)
        files = changed_files(root, base)
        print(f"pr-check: {len(files)} file(s) changed against {base.describe()}")
    run_config = precommit.write_offline_config(config_path, root) if offline else config_path
    command = precommit.pre_commit_command(run_config, files, base=base, hook=hook,
                                           verbose=args.verbose, color=precommit.use_color())
    sys.stdout.flush()
    result = precommit.run_pre_commit(command, root, base=base, skip=skip, offline=offline)
    lines = []
    if offline and not only:
        ran = [h for h in config.hooks if not h.needs_network]
        lines = precommit.remote_hook_lines(config.remote_hooks(), ran)
    lines += precommit.verdict(result, config, offline=offline)
    print("\n".join(lines))
    if result.returncode == 0:
        return ExitCode.OK
    return ExitCode.FINDINGS if result.returncode == 1 else ExitCode.USAGE


# -- pr-contracts --------------------------------------------------------------------------------
def _add_deps_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="platform_tools.toml ([deps] section)")
    parser.add_argument("--disable", action="append", default=[], metavar="CODE",
                        help="do not run this rule (GU…, PR…; repeatable)")


def _register_pr_contracts(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pr-contracts",
        help="contract and ownership gate of a change: dbt parse, then deps against the base",
        description=(
            "Parse the project (dbt parse into <work-dir>/current), take the baseline "
            "manifest (--baseline, else the base commit parsed and cached), and report the "
            "breaking changes (BC…), the ownership findings the change introduces (GU…) and "
            "the change rules (PR…: a changed model without description or properties). Exit "
            "1 when any of them is an error. The pre-commit hook `platform-contracts`."
        ),
    )
    _add_project(parser)
    _add_base(parser, "$PRE_COMMIT_FROM_REF, else origin/main when it exists, else HEAD~1")
    parser.add_argument("--baseline", type=Path, default=None, metavar="MANIFEST",
                        help="baseline manifest.json (or a directory holding one) instead of "
                        "parsing the base commit")
    parser.add_argument("--work-dir", type=Path, default=None, metavar="DIR",
                        help="where the project is parsed (DIR/current, whose manifest.json the "
                        "dbt-checkpoint hooks read) and base commits are cached "
                        f"(DIR/baselines/<sha>); default <project>/{contracts.WORK_DIR}")
    parser.add_argument("--no-parse", action="store_true",
                        help="use DIR/current/manifest.json as it is")
    parser.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    parser.add_argument("--output", "-o", type=Path, default=None, metavar="FILE")
    _add_deps_options(parser)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)  # as passed by pre-commit
    parser.set_defaults(handler=handle_pr_contracts)


def _deps_config(args: argparse.Namespace) -> tuple[checks.DepsConfig, frozenset[str]]:
    deps_codes, change_codes = contracts.split_disabled(list(args.disable))
    config = checks.DepsConfig.from_settings(load_settings(args.config))
    if deps_codes:
        config = config.with_disabled(deps_codes)
    return config, change_codes


@without_gc
def handle_pr_contracts(args: argparse.Namespace) -> ExitCode:
    root = _project_root(args.project_dir)
    config, change_codes = _deps_config(args)
    work = args.work_dir or contracts.WORK_DIR
    work = work if work.is_absolute() else root / work
    current = work / contracts.CURRENT
    current_path = (current / "manifest.json" if args.no_parse
                    else contracts.dbt_parse(root, current))
    if args.baseline is not None:
        baseline_path = args.baseline
    else:
        base = resolve_base(root, args.base or os.environ.get("PRE_COMMIT_FROM_REF") or None)
        baseline_path = contracts.baseline_manifest(root, base, work / contracts.BASELINES)
    result = contracts.check(contracts.load(current_path), contracts.load(baseline_path),
                             config, disable_change_rules=change_codes)
    if args.format == "json":
        text = to_json(result.report)
    elif args.format == "markdown":
        text = to_markdown(result.report)
    else:
        text = render_table(result)
    write_output(text, args.output)
    return ExitCode.FINDINGS if result.failed else ExitCode.OK


# -- pr-ci -----------------------------------------------------------------------------------------
def _register_pr_ci(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pr-ci",
        help="slim CI for a pull request: build what changed, gate contracts, write a comment",
        description=(
            "Against the main branch's manifest (--baseline-dir): list the modified models "
            "(state:modified), check contracts and ownership (deps --new-only), lint the "
            "changed SQL, run `dbt build --select state:modified+ --defer --state "
            "<baseline>`, and write a Markdown comment with what changed, the teams and "
            "exposures affected, and the lint and test results. Exit 1 when any step fails "
            "(the comment is written either way)."
        ),
    )
    parser.add_argument("--baseline-dir", type=Path, required=True, metavar="DIR",
                        help="directory holding the main branch's manifest.json")
    _add_project(parser)
    _add_base(parser, "origin/main when it exists, else HEAD~1")
    parser.add_argument("--target-dir", type=Path, default=None, metavar="DIR",
                        help="dbt target directory of the CI run (default: <project>/target/pr_ci)")
    parser.add_argument("--comment-out", type=Path, default=None, metavar="FILE",
                        help="write the comment here (default: standard output)")
    parser.add_argument("--no-build", action="store_true",
                        help="skip `dbt build` (no engine needed)")
    parser.add_argument("--no-lint", action="store_true", help="skip sqlfluff")
    _add_deps_options(parser)
    parser.set_defaults(handler=handle_pr_ci)


@without_gc
def handle_pr_ci(args: argparse.Namespace) -> ExitCode:
    root = _project_root(args.project_dir)
    config, change_codes = _deps_config(args)
    target = args.target_dir or Path("target") / "pr_ci"
    target = (target if target.is_absolute() else root / target).resolve()
    if not args.baseline_dir.is_dir():
        raise UsageError(f"--baseline-dir {args.baseline_dir}: not a directory")
    settings = slim_ci.SlimCiSettings(
        project_dir=root, baseline_dir=args.baseline_dir.resolve(), target_dir=target,
        base_ref=args.base, build=not args.no_build, lint=not args.no_lint,
        deps_config=config, disable_change_rules=change_codes,
    )
    report = slim_ci.run(settings)
    comment = slim_ci_comment(report)
    if args.comment_out is None:
        write_output(comment, None)
    else:
        write_output(comment, args.comment_out)
        verdict = "FAILED" if report.failed else "passed"
        teams = ", ".join(report.affected_teams) or "none"
        print(f"pr-ci {verdict}: {len(report.changed)} node(s) changed; teams affected: "
              f"{teams}; comment written to {args.comment_out}")
    return ExitCode.FINDINGS if report.failed else ExitCode.OK
