"""Where the page's files are: inside the installed package (a wheel carries ``static/`` and ``templates/``
in ``app/``, see ``pyproject.toml``), or beside the package in a source checkout."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resource_dir(name):
    """``static`` or ``templates``, wherever this copy of the package was installed or checked out."""
    for candidate in (PACKAGE / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"the demo's {name}/ folder is missing beside {PACKAGE}: reinstall the package")


STATIC = resource_dir("static")
TEMPLATES = resource_dir("templates")
