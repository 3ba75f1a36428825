#!/bin/sh
# Installs the Debian packages that a make target needs and the machine lacks: `venv` (python3-venv, for
# `$PYTHON -m venv`, python3 by default), `chromium` (the browser tests) and `redis` (redis-server, for the
# Redis-store tests).
# As root it runs apt-get; as another user, sudo apt-get where sudo exists; otherwise it says exactly what to
# install and exits 1. One line for each package it installs.
set -eu
need=""
for what in "$@"; do
  case $what in
    venv) "${PYTHON:-python3}" -c 'import ensurepip, venv' 2>/dev/null || need="$need python3-venv" ;;
    chromium) [ -x "${CHROMIUM:-/usr/lib/chromium/chromium}" ] || need="$need chromium" ;;
    redis) command -v redis-server >/dev/null 2>&1 || need="$need redis-server" ;;
    *) echo "system-deps.sh: unknown requirement '$what'" >&2; exit 2 ;;
  esac
done
[ -n "$need" ] || exit 0
if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "missing Debian packages:$need. Install them as root (apt-get install$need), then run make again." >&2
  exit 1
fi
for package in $need; do echo "installing Debian's $package (apt-get install $package)"; done
$as_root apt-get update -qq >/dev/null
$as_root env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq $need >/dev/null
