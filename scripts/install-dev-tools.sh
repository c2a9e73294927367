#!/usr/bin/env bash
# Debian packages the developer tools need (not the build or the tests): flatc for regenerating the
# schema code, clang with libFuzzer and the sanitizer runtimes for scripts/fuzz.sh.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq flatbuffers-compiler libflatbuffers-dev clang libclang-rt-14-dev
