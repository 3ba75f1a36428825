"""``scripts/system-deps.sh``, which ``make`` runs on a fresh machine: as root it installs what is missing with
apt-get, as a user through sudo, and without sudo it says exactly what to install. Run here with stand-ins
for ``id``, ``sudo``, ``apt-get`` and ``python3`` on a PATH of their own, so nothing is installed for real."""

import subprocess

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "system-deps.sh"


@pytest.fixture
def machine(tmp_path):
    """``run(*requirements, uid=0, sudo=False, have=()) -> (exit status, stdout, stderr, commands run)``."""
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()

    def tool(name, body):
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)

    def run(*requirements, uid=0, sudo=False, have=()):
        tool("id", f"echo {uid}")
        tool("env", 'while [ "${1#*=}" != "$1" ]; do shift; done; exec "$@"')  # drops the VAR=value words
        tool("apt-get", f'echo "apt-get $*" >> {log}')
        tool("python3", "exit 0" if "venv" in have else "exit 1")  # `import ensurepip, venv` fails
        if sudo:
            tool("sudo", f'echo "sudo $1" >> {log}; exec "$@"')
        if "redis" in have:
            tool("redis-server", "exit 0")
        chromium = bin_dir / "chromium"
        if "chromium" in have:
            tool("chromium", "exit 0")
        out = subprocess.run(["/bin/sh", str(SCRIPT), *requirements], capture_output=True, text=True,
                             env={"PATH": str(bin_dir), "CHROMIUM": str(chromium)})
        commands = log.read_text().splitlines() if log.exists() else []
        return out.returncode, out.stdout, out.stderr, commands

    return run


def test_nothing_missing_does_nothing(machine):
    assert machine("venv", "chromium", "redis", have=("venv", "chromium", "redis")) == (0, "", "", [])


def test_as_root_it_installs_what_is_missing_with_one_line_each(machine):
    status, out, err, commands = machine("venv", "chromium", "redis", have=("chromium",))
    assert (status, err) == (0, "")
    assert out.splitlines() == ["installing Debian's python3-venv (apt-get install python3-venv)",
                                "installing Debian's redis-server (apt-get install redis-server)"]
    assert commands == ["apt-get update -qq", "apt-get install -y -qq python3-venv redis-server"]


def test_a_user_with_sudo_installs_through_sudo(machine):
    status, out, _, commands = machine("chromium", uid=1000, sudo=True)
    assert status == 0 and out.splitlines() == ["installing Debian's chromium (apt-get install chromium)"]
    assert commands == ["sudo apt-get", "apt-get update -qq", "sudo env", "apt-get install -y -qq chromium"]


def test_a_user_without_sudo_is_told_exactly_what_to_install(machine):
    status, out, err, commands = machine("venv", "redis", uid=1000)
    assert (status, out, commands) == (1, "", [])
    assert err.strip() == ("missing Debian packages: python3-venv redis-server. Install them as root "
                           "(apt-get install python3-venv redis-server), then run make again.")
