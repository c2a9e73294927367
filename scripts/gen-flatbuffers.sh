#!/usr/bin/env bash
# Regenerates the FlatBuffers code from schema/event_log.fbs and refreshes the vendored C++ headers.
# Needs Debian's flatbuffers-compiler and libflatbuffers-dev (2.0.8): scripts/install-dev-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf src/log/fb
flatc --ts -o src/log/fb schema/event_log.fbs
flatc --cpp --scoped-enums -o native/log schema/event_log.fbs
rm -rf native/third_party/flatbuffers/include && mkdir -p native/third_party/flatbuffers/include
cp -r /usr/include/flatbuffers native/third_party/flatbuffers/include/
cp /usr/share/doc/libflatbuffers-dev/copyright native/third_party/flatbuffers/COPYRIGHT
echo "regenerated from $(flatc --version)"
