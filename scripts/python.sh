#!/bin/sh
# Prints the Python that `make` builds the virtualenv with, unless make is given one (make run PYTHON=python3.12):
# the distribution's own /usr/bin/python3 if it is 3.11 or newer, else the python3 on PATH. Debian and Ubuntu
# build theirs with profile-guided and link-time optimization and link the interpreter statically; a Python
# built from source with the defaults (pyenv's, which a PATH may put first) has none of that and serves the
# demo's hottest route, the step, with a fifth more CPU (README, "Performance").
set -eu
system=${SYSTEM_PYTHON:-/usr/bin/python3}
if [ -x "$system" ] && "$system" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "$system"
else
  echo python3
fi
