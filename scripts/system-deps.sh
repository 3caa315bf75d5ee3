#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing, so `npm test` works on
# a fresh machine (pretest calls this; so does .ci/run through npm test). Each line of NEEDS is
# "command package...": the package(s) are installed when the command is not on PATH.
# Exits non-zero with one clear line when something is missing and cannot be installed
# (not root, no apt-get, or apt failed).
set -u

NEEDS=(
  "gcc gcc libc6-dev"
  "prometheus prometheus"
  "chromium chromium"
  "nginx nginx"
)

missing_cmds=()
missing_pkgs=()
for line in "${NEEDS[@]}"; do
  read -r cmd pkgs <<<"$line"
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing_cmds+=("$cmd")
    # shellcheck disable=SC2206
    missing_pkgs+=($pkgs)
  fi
done

[ "${#missing_cmds[@]}" -eq 0 ] && exit 0

echo "system-deps: missing ${missing_cmds[*]}; installing Debian packages: ${missing_pkgs[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: cannot install ${missing_pkgs[*]}: not root (run as root, or: sudo apt-get install ${missing_pkgs[*]})" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: cannot install ${missing_pkgs[*]}: no apt-get on this machine; install them by hand" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"; } >&2; then
  echo "system-deps: apt-get could not install ${missing_pkgs[*]} (see above)" >&2
  exit 1
fi
for cmd in "${missing_cmds[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "system-deps: $cmd still missing after install" >&2; exit 1; }
done
echo "system-deps: installed ${missing_pkgs[*]}" >&2
