"""``scripts/system-deps.sh``, which ``make`` runs on a fresh machine: as root it installs what is missing with
apt-get, as a user through sudo, and without sudo it says exactly what to install. Run here with stand-ins
for ``id``, ``sudo``, ``apt-get`` and ``python3`` on a PATH of their own, so nothing is installed for real."""

import subprocess

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "system-deps.sh"


@pytest.fixture
def machine(tmp_path):
    """``run(*requirements, uid=0, sudo=False, have=(), python=None) -> (exit status, stdout, stderr, commands
    run)``; ``python``: the ``PYTHON`` make passes (else the script asks ``python3``)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()

    def tool(name, body):
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)

    def run(*requirements, uid=0, sudo=False, have=(), python=None):
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
        env = {"PATH": str(bin_dir), "CHROMIUM": str(chromium), **({"PYTHON": python} if python else {})}
        out = subprocess.run(["/bin/sh", str(SCRIPT), *requirements], capture_output=True, text=True, env=env)
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


def test_venv_asks_the_interpreter_make_chose(machine, tmp_path):
    """``PYTHON`` (make passes the one it builds the virtualenv with) is the one asked for ``venv``."""
    chosen = tmp_path / "chosen-python"
    chosen.write_text("#!/bin/sh\nexit 0\n")
    chosen.chmod(0o755)
    status, out, _, commands = machine("venv", python=str(chosen))  # python3 on the PATH lacks venv
    assert (status, out, commands) == (0, "", [])


# --- scripts/python.sh: the interpreter make builds the virtualenv with -------------------------------------
PICK = ROOT / "scripts" / "python.sh"


def fake_python(path, version):
    """A stand-in interpreter that answers the script's version check as Python ``version`` would."""
    path.write_text(f"#!/bin/sh\n[ {version[0] * 100 + version[1]} -ge 311 ]\n")
    path.chmod(0o755)
    return path


def pick(system):
    return subprocess.run(["/bin/sh", str(PICK)], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "SYSTEM_PYTHON": str(system)}).stdout.strip()


def test_the_distributions_python_is_preferred_from_3_11(tmp_path):
    assert pick(fake_python(tmp_path / "python3.11", (3, 11))) == str(tmp_path / "python3.11")
    assert pick(fake_python(tmp_path / "python3.13", (3, 13))) == str(tmp_path / "python3.13")


def test_an_older_or_missing_distribution_python_gives_the_one_on_path(tmp_path):
    assert pick(fake_python(tmp_path / "python3.10", (3, 10))) == "python3"
    assert pick(tmp_path / "none") == "python3"


def test_make_builds_the_virtualenv_with_the_chosen_python_unless_given_one(tmp_path):
    system = fake_python(tmp_path / "python3", (3, 12))
    show = ["make", "-s", "--no-print-directory", "-C", str(ROOT), "--eval", "show-python: ; @echo $(PYTHON)",
            "show-python"]
    env = {"PATH": "/usr/bin:/bin", "SYSTEM_PYTHON": str(system)}
    assert subprocess.run(show, capture_output=True, text=True, env=env, check=True).stdout.strip() == str(system)
    given = subprocess.run([*show, "PYTHON=python3.12"], capture_output=True, text=True, env=env, check=True)
    assert given.stdout.strip() == "python3.12"
