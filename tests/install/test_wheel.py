"""The package as a user installs it: sdist and wheel built, the wheel installed into a fresh virtualenv with
the pinned runtime requirements only, and ``linear-classify-demo`` started from an empty folder outside the
repository. Everything the page references must come from the installed package."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.conftest import ROOT, free_port, stop, wait_until


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(bin folder of the fresh virtualenv, the built wheel)``."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], check=True,
                   stdout=subprocess.DEVNULL)
    wheel = next(dist.glob("linear_classify_demo-*.whl"))
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + ["--require-hashes", "-r", str(ROOT / "requirements" / "run.txt")], check=True)
    subprocess.run(pip + ["--no-deps", str(wheel)], check=True)
    return venv / "bin", wheel


@pytest.fixture(scope="module")
def server(installed, tmp_path_factory):
    """The installed command serving from an empty folder; yields its URL."""
    bin_dir, _ = installed
    port, cwd = free_port(), tmp_path_factory.mktemp("empty")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd)}  # no PYTHONPATH: nothing from the checkout
    proc = subprocess.Popen([str(bin_dir / "linear-classify-demo"), "--port", str(port), "--log-level", "warning"],
                            cwd=cwd, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/api/health").status_code == 200, "the installed server", proc)
        yield url
    finally:
        stop(proc)


def test_the_wheel_carries_the_page(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed[1]).namelist())
    for path in ("app/templates/index.html", "app/static/favicon.svg", "app/static/js/main.js", "app/static/css/app.css"):
        assert path in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


PATTERNS = {  # what each kind of file loads
    "html": [r'(?:src|href)="([^"#]+)"'],
    "javascript": [r'^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"', r'^\s*import\s*"([^"]+)"',
                   r'\bimport\(\s*"([^"]+)"\s*\)'],
    "css": [r"url\(['\"]?([^'\")]+)['\"]?\)"],
}


def references(url, kind, text):
    """The same-origin URLs that an HTML page, an ES module or a style sheet loads."""
    found = [ref for pattern in PATTERNS[kind] for ref in re.findall(pattern, text, re.MULTILINE)]
    origin = "/".join(url.split("/")[:3]) + "/"
    absolute = {urljoin(url, ref) for ref in found if not ref.startswith(("data:", "mailto:"))}
    return {ref for ref in absolute if ref.startswith(origin)}


def crawl(start):
    """Every URL reachable from ``start`` through the references above, with its status."""
    seen, todo, status = set(), [start], {}
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = httpx.get(url)
        status[url] = r.status_code
        kind = next((k for k in PATTERNS if k in r.headers.get("content-type", "")), None)
        if r.status_code == 200 and kind and not url.endswith(".min.js"):  # bundles load nothing more
            todo.extend(references(url, kind, r.text) - seen)
    return status


def test_the_page_and_every_asset_it_references_are_served(server):
    status = crawl(server + "/")
    scripts = [u for u in status if u.endswith(".js")]
    assert status[server + "/"] == 200 and len(scripts) >= 8 and server + "/vendor/plotly.min.js" in status
    assert server + "/static/css/app.css" in status and server + "/favicon.ico" in status
    assert {u: s for u, s in status.items() if s != 200} == {}


def test_the_api_docs_and_their_assets_are_served(server):
    status = crawl(server + "/docs")
    assert server + "/vendor/swagger/swagger-ui-bundle.js" in status and server + "/vendor/swagger/swagger-ui.css" in status
    assert {u: s for u, s in status.items() if s != 200} == {}
    assert httpx.get(server + "/openapi.json").json()["info"]["title"] == "linear-classify-demo"


def test_a_session_has_the_default_loss(server):
    r = httpx.post(server + "/api/sessions")
    assert r.status_code == 201 and r.json()["loss"] == pytest.approx(6.2667, abs=1e-4)


def run_command(installed, *args, env=()):
    bin_dir, _ = installed
    return subprocess.run([str(bin_dir / "linear-classify-demo"), *args], capture_output=True, text=True,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", **dict(env)}, cwd="/", timeout=60)


def test_the_version_is_the_package_version(installed):
    out = run_command(installed, "--version")
    version = re.search(r"linear_classify_demo-([^-]+)-", installed[1].name).group(1)
    assert out.returncode == 0 and out.stdout.strip() == f"linear-classify-demo {version}"


def test_the_redis_store_without_its_extra_is_one_clear_line(installed):
    out = run_command(installed, env={"LINCLASS_SESSION_STORE": "redis://127.0.0.1:1/0"})
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "linear-classify-demo: LINCLASS_SESSION_STORE=redis://… needs the Redis client: "
        "pip install 'linear-classify-demo[redis]'"]
