#!/usr/bin/env bash
# Records a real program's memory syscalls for `POST /processes {"replay": …}`, with the maps the
# process had when its first syscall ran (after execve: the ELF image, ld.so, stack, vDSO) and when
# it called exit_group. Usage:
#
#   scripts/capture-trace.sh OUTDIR -- PROGRAM [ARGS...]
#
# writes OUTDIR/trace.txt (strace -f -ttt -y -e trace=memory,prctl,exit_group output),
# OUTDIR/initial-maps.txt, OUTDIR/final-maps.txt and OUTDIR/command.txt.
# How: the program runs under `setarch -R` (no ASLR, so reruns give the same addresses) and strace;
# strace injects SIGSTOP at the first brk() (the first syscall of a dynamically linked program) and
# at exit_group() (which it fails with EINTR so the process stays to be looked at); while the
# process is stopped this script copies /proc/PID/maps, then continues it / kills it.
# The plain command users capture with, `strace -f -ttt -e trace=memory,prctl -o trace.txt PROG`,
# gives a trace the replay also reads (without -y, file mappings show only fd numbers).
set -euo pipefail
[ $# -ge 3 ] && [ "$2" = "--" ] || { echo "usage: $0 OUTDIR -- PROGRAM [ARGS...]" >&2; exit 2; }
out=$1; shift 2
command -v strace >/dev/null || { echo "capture-trace: strace is not installed (apt-get install strace)" >&2; exit 1; }
mkdir -p "$out"
trace="$out/trace.txt"
rm -f "$trace"

setarch -R strace -f -ttt -y -e trace=memory,prctl,exit_group \
  -e inject=brk:signal=SIGSTOP:when=1 \
  -e inject=exit_group:error=EINTR:signal=SIGSTOP \
  -o "$trace" "$@" >"$out/stdout.txt" 2>"$out/stderr.txt" &
strace_pid=$!

# Waits until the trace shows the n-th "stopped by SIGSTOP" (bounded: 30 s).
wait_stops() {
  for _ in $(seq 600); do
    n=$(grep -c 'stopped by SIGSTOP' "$trace" 2>/dev/null || true)
    [ "${n:-0}" -ge "$1" ] && return 0
    kill -0 "$strace_pid" 2>/dev/null || { echo "capture-trace: the program ended early" >&2; return 1; }
    sleep 0.05
  done
  echo "capture-trace: no stop $1 within 30 s" >&2
  return 1
}

wait_stops 1
pid=$(awk '/stopped by SIGSTOP/ { print $1; exit }' "$trace")
cat "/proc/$pid/maps" >"$out/initial-maps.txt"
kill -CONT "$pid"
wait_stops 2
cat "/proc/$pid/maps" >"$out/final-maps.txt"
kill -KILL "$pid"
wait "$strace_pid" 2>/dev/null || true
printf '%s\n' "$*" >"$out/command.txt"
rm -f "$out/stdout.txt" "$out/stderr.txt"
echo "capture-trace: $(grep -c '' "$trace") trace lines, $(grep -c '' "$out/initial-maps.txt") -> $(grep -c '' "$out/final-maps.txt") VMAs in $out" >&2
