"""The dbt docs site as the catalog people navigate: after a small build on the local engine,
`dbt docs generate` and `dbt docs serve`, headless Chromium opens the billing domain's public
invoice model and finds its owner (the group's owner), access, enforced contract, SLA and tier
(meta) and every contract column; an exposure reading it shows it among its upstream models.

The docs site is a single-page app: Chromium renders it with `--virtual-time-budget` (the page
fetches manifest.json and catalog.json) and `--dump-dom`; a screenshot is kept in the test's
temporary directory.
"""

from __future__ import annotations

import html
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_tools.artifacts.manifest import Manifest, Node, load_manifest
from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import BIN, REPO, assert_ok, dbt, engine_env, free_port, platform_tools

pytestmark = [pytest.mark.engine, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Site:
    target: Path
    env: dict[str, str]
    manifest: Manifest
    model: Node


def invoice_model(manifest: Manifest) -> Node:
    """The billing domain's public invoice model (the shortest such name: fct_invoices
    before fct_invoice_lines)."""
    candidates = [
        n for n in manifest.models()
        if n.is_public and n.domain == "billing" and "invoice" in n.name
        and n.original_file_path.startswith("models/billing/gold/")
    ]
    assert candidates, "no public billing model named like *invoice* in models/billing/gold"
    return sorted(candidates, key=lambda n: (len(n.name), n.name))[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (`make chromium` installs it)")
    work = tmp_path_factory.mktemp("docs_site")
    port = free_port()
    lakehouse = work / "lakehouse"
    env = engine_env(lakehouse, port)
    target = work / "target"
    paths = ["--target-path", str(target), "--log-path", str(work / "logs")]
    try:
        assert_ok(platform_tools(env, "landing", "generate", "--meters", "40", "--days", "2"))
        assert_ok(platform_tools(env, "landing", "stage"))
        assert_ok(dbt(REPO, env, "parse", *paths))
        model = invoice_model(load_manifest(target / "manifest.json"))
        # a small build: the invoice model and everything it reads
        assert_ok(dbt(REPO, env, "build", "--select", f"+{model.name}", *paths))
        assert_ok(dbt(REPO, env, "docs", "generate", *paths))
        manifest = load_manifest(target / "manifest.json")
        yield Site(target, env, manifest, manifest.nodes[model.unique_id])
    finally:
        server.down(EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID))


@pytest.fixture(scope="module")
def docs_url(site: Site) -> Iterator[str]:
    """`dbt docs serve` on a free port; the server is killed by pid afterwards."""
    port = free_port()
    log = open(site.target.parent / "docs-serve.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(BIN / "dbt"), "docs", "serve", "--port", str(port), "--no-browser",
         "--target-path", str(site.target)],
        cwd=REPO, env=site.env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "manifest.json", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (site.target.parent / "docs-serve.log").read_text()
            assert time.monotonic() < deadline, "dbt docs serve did not answer within 60 s"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--virtual-time-budget=15000", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def visible_text(dom: str) -> str:
    """The page's text: scripts (the site's bundle) and styles removed, whitespace folded."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def render(url: str, profile: Path) -> str:
    result = chromium(profile, "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    return visible_text(result.stdout)


def test_public_model_page_shows_owner_contract_and_sla(site: Site, docs_url: str,
                                                        tmp_path: Path) -> None:
    model = site.model
    page = f"{docs_url}#!/model/{model.unique_id}"
    text = render(page, tmp_path / "profile")
    assert model.name in text
    group = site.manifest.groups[model.team or ""]
    assert group.owner_name and group.owner_email
    assert f"Owner {group.owner_name} <{group.owner_email}>" in text, text[:3000]
    assert "Access public" in text and "Contract Enforced" in text
    # meta, shown on the page: domain, layer, tier and the freshness SLA
    assert f"domain {model.domain}" in text and "layer gold" in text
    assert f"tier {model.tier}" in text
    assert re.search(r'sla \{"freshness_hours": ?\d+', text), text[:3000]
    # every contract column with its type
    assert model.contract_enforced and model.columns
    for column in model.columns:
        assert column.name in text, f"column {column.name} not on the page"
        assert column.data_type and column.data_type.replace(" ", "") in text.replace(" ", "")

    shot = tmp_path / f"{model.name}.png"
    snap = chromium(tmp_path / "profile", "--window-size=1920,2600", f"--screenshot={shot}",
                    page)
    assert snap.returncode == 0, snap.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_exposures_are_in_the_lineage(site: Site, docs_url: str, tmp_path: Path) -> None:
    readers = [e for e in site.manifest.exposures.values()
               if site.model.unique_id in e.depends_on]
    assert readers, f"no exposure reads {site.model.name}"
    exposure = sorted(readers, key=lambda e: e.name)[0]
    text = render(f"{docs_url}#!/exposure/{exposure.unique_id}", tmp_path / "profile")
    assert exposure.label in text
    depends = text[text.find("Depends On"):]
    assert site.model.name in depends, text[:3000]
    # the project tree lists the exposures beside sources and models
    assert "Exposures" in text
