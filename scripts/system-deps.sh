#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing, so `npm test` works on
# a fresh machine (pretest calls this; so does .ci/run through npm test). Each line of NEEDS is
# "command package...": the package(s) are installed when the command is not on PATH. A first word
# starting with "/" is a file instead (e.g. a static library), installed when it does not exist.
# Exits non-zero with one clear line when something is missing and cannot be installed
# (not root, no apt-get, or apt failed).
set -u

# SYSTEM_DEPS_NEEDS (newline-separated lines) replaces the list: test/scripts/ uses it.
NEEDS=(
  "gcc gcc"
  "/usr/lib/x86_64-linux-gnu/libc.a libc6-dev"
  "prometheus prometheus"
  "chromium chromium"
  "nginx nginx"
)

if [ -n "${SYSTEM_DEPS_NEEDS:-}" ]; then
  mapfile -t NEEDS <<<"$SYSTEM_DEPS_NEEDS"
fi

# A command on PATH, or an existing file for an absolute path.
present() {
  case "$1" in
  /*) [ -e "$1" ] ;;
  *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing_cmds=()
missing_pkgs=()
for line in "${NEEDS[@]}"; do
  read -r cmd pkgs <<<"$line"
  if ! present "$cmd"; then
    missing_cmds+=("$cmd")
    # shellcheck disable=SC2206
    missing_pkgs+=($pkgs)
  fi
done

[ "${#missing_cmds[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${missing_cmds[*]}; cannot install ${missing_pkgs[*]}: not root (run as root, or: sudo apt-get install ${missing_pkgs[*]})" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing_cmds[*]}; cannot install ${missing_pkgs[*]}: no apt-get on this machine; install them by hand" >&2
  exit 1
fi
echo "system-deps: missing ${missing_cmds[*]}; installing Debian packages: ${missing_pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"; } >&2; then
  echo "system-deps: apt-get could not install ${missing_pkgs[*]} (see above)" >&2
  exit 1
fi
for cmd in "${missing_cmds[@]}"; do
  present "$cmd" || { echo "system-deps: $cmd still missing after install" >&2; exit 1; }
done
echo "system-deps: installed ${missing_pkgs[*]}" >&2
