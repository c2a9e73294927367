#!/usr/bin/env bash
# Fuzzes the native event-log frame decoder, the books (through MarketEngine) and one Ladder side against a
# std::map reference with libFuzzer under
# ASan+UBSan, then runs an ASan+UBSan native replay over synthetic and real event logs. Not part of
# npm test. Needs clang++ with libFuzzer (scripts/install-dev-tools.sh) and a TS build (dist/).
#   scripts/fuzz.sh            FUZZ_SECONDS (default 60) per target
#   scripts/fuzz.sh --smoke    5 s per target: a quick check that everything builds and runs clean
# Outputs under .fuzz/ (FUZZ_OUT): binaries, corpus (kept between runs), crash artifacts, logs.
# Prints "<target>: N execs, K crashes" per target; exits 1 when anything crashed or a sanitizer fired.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${FUZZ_SECONDS:-60}
if [ "${1:-}" = "--smoke" ]; then SECS=${FUZZ_SECONDS:-5}; fi
OUT=${FUZZ_OUT:-.fuzz}
CXX=${FUZZ_CXX:-clang++}
mkdir -p "$OUT/bin" "$OUT/artifacts" "$OUT/logs"

if ! command -v "$CXX" >/dev/null; then
  echo "fuzz: $CXX not found; run scripts/install-dev-tools.sh (clang, libclang-rt-14-dev)" >&2
  exit 2
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -fsanitize-ignorelist=native/fuzz/asan-ignorelist.txt"
COV="-fsanitize=fuzzer -fsanitize-coverage-ignorelist=native/fuzz/coverage-ignorelist.txt"
CXXFLAGS="-std=c++17 -g -O1 -Inative -Inative/third_party/flatbuffers/include"
DECODER="native/core/crc32c.cc native/log/frame_decoder.cc"
shopt -s nullglob
BOOK_SRC=(native/book/*.cc native/features/*.cc native/market/*.cc)
shopt -u nullglob
HAVE_ENGINE=0
[ -f native/market/market_engine.h ] && [ ${#BOOK_SRC[@]} -gt 0 ] && HAVE_ENGINE=1

build() { # name, extra flags, sources...
  local name=$1 flags=$2
  shift 2
  echo "fuzz: building $name"
  # shellcheck disable=SC2086
  if ! $CXX $CXXFLAGS $SAN $flags -o "$OUT/bin/$name" "$@" 2>"$OUT/logs/$name.build.log"; then
    cat "$OUT/logs/$name.build.log" >&2
    echo "fuzz: $name failed to build (see above)" >&2
    exit 2
  fi
}

# Seeds: a small synthetic log and its cuts, book event bytes, and real logs through the importers.
if [ ! -f dist/src/log/event-log.js ]; then
  echo "fuzz: building TypeScript (dist/) for the corpus generator"
  flock /tmp/cmm-tsc.lock npx tsc -p tsconfig.json >/dev/null || true
fi
node native/fuzz/make-corpus.js "$OUT/seeds"

build fuzz_frames "$COV" $DECODER native/fuzz/fuzz_frames.cc
TARGETS=(fuzz_frames)
if [ $HAVE_ENGINE = 1 ]; then
  build fuzz_book "$COV" "${BOOK_SRC[@]}" $DECODER native/fuzz/fuzz_book.cc
  build fuzz_ladder "$COV" "${BOOK_SRC[@]}" native/fuzz/fuzz_ladder.cc
  build replay_driver "" "${BOOK_SRC[@]}" $DECODER native/fuzz/replay_driver.cc
  TARGETS+=(fuzz_book fuzz_ladder)
else
  echo "fuzz: native/market not there yet: fuzz_book and the replay driver are skipped"
fi

declare -A SEEDS=([fuzz_frames]=frames [fuzz_book]=book [fuzz_ladder]=ladder)
# fuzz_book: 10 bytes an event, 800 events at most; fuzz_ladder: 8 bytes an operation, 8,191 at most
declare -A MAXLEN=([fuzz_frames]=65536 [fuzz_book]=8192 [fuzz_ladder]=65536)
FAILED=0
RESULTS=()
for t in "${TARGETS[@]}"; do
  corpus="$OUT/corpus/$t"
  mkdir -p "$corpus"
  log="$OUT/logs/$t.log"
  echo "fuzz: running $t for ${SECS}s"
  set +e
  # native/fuzz/regressions/<target>/: inputs that once crashed it, run first on every fuzz run.
  regressions=()
  [ -d "native/fuzz/regressions/$t" ] && regressions=("native/fuzz/regressions/$t")
  "$OUT/bin/$t" -max_total_time="$SECS" -print_final_stats=1 -max_len="${MAXLEN[$t]}" -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/artifacts/$t-" "$corpus" "$OUT/seeds/${SEEDS[$t]}" "${regressions[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ -z "$execs" ]; then execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#'); fi
  crashes=$(grep -c '^artifact_prefix=\|Test unit written to' "$log" || true)
  if [ $rc -ne 0 ] && [ "$crashes" = 0 ]; then crashes=1; fi
  line="$t: ${execs:-0} execs, $crashes crashes"
  if [ "$crashes" != 0 ]; then
    FAILED=1
    line="$line (log $log; artifacts $OUT/artifacts/$t-*)"
    grep -m5 -E 'ERROR: |runtime error|SUMMARY' "$log" >&2 || true
  fi
  RESULTS+=("$line")
  echo "$line"
done

if [ $HAVE_ENGINE = 1 ]; then
  for f in "$OUT"/seeds/logs/*.cmmlog; do
    echo "fuzz: ASan+UBSan native replay of $f"
    set +e
    "$OUT/bin/replay_driver" "$f" 2>"$OUT/logs/replay.$(basename "$f").err"
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
      FAILED=1
      cat "$OUT/logs/replay.$(basename "$f").err" >&2
      RESULTS+=("replay_driver $(basename "$f"): FAILED (exit $rc)")
    else
      RESULTS+=("replay_driver $(basename "$f"): clean")
    fi
  done
fi

echo "fuzz summary (${SECS}s per target):"
printf '  %s\n' "${RESULTS[@]}"
exit $FAILED
