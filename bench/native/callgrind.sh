#!/bin/sh
# Instructions per event (valgrind callgrind; independent of machine load) for each case of
# bench/native/callgrind_driver.cc over raw event files and event logs, built with the addon's flags.
# Usage: bench/native/callgrind.sh <file.l2.events|file.l3.events|file.cmmlog>... [-- case...]
# Raw files: node dist/bench/native/export-events.js; logs: EventLogWriter (or the market-data bench --keep).
set -e
cd "$(dirname "$0")/../.."
mkdir -p build/bench
g++ -O3 -fstrict-aliasing -std=gnu++17 -g -Inative -Inative/third_party/flatbuffers/include -o build/bench/callgrind_driver \
  bench/native/callgrind_driver.cc native/book/*.cc native/features/*.cc native/market/*.cc native/log/*.cc native/core/*.cc
files=""
cases=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; cases="$*"; break; fi
  files="$files $1"
  shift
done
for f in $files; do
  case "$f" in
    *.cmmlog) default="replay crc" ;;
    *) default="book book-top book-all engine-top engine engine-norows" ;;
  esac
  for c in ${cases:-$default}; do
    out=build/bench/callgrind.out.$c.$(basename "$f")
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" build/bench/callgrind_driver "$c" "$f" >"$out.stdout" 2>/dev/null
    ev=$(awk '/^events/{print $2}' "$out.stdout")
    ir=$(awk '/^totals:/{print $2}' "$out")
    awk -v c="$c" -v f="$(basename "$f")" -v ev="$ev" -v ir="$ir" \
      'BEGIN { printf "%-14s %-22s %9d events %14d Ir %8.1f Ir/event\n", c, f, ev, ir, ir / ev }'
  done
done
