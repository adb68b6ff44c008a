#!/usr/bin/env bash
# The cost of verifying one bearer token: Identity's JWKSVerifier (hand-written over
# swift-crypto, synchronous) next to jwt-kit 5's JWTKeyCollection (an actor), same tokens,
# same keys, same checks. Release build in .build-release; prints the JSON of jws-bench.
#
# Environment: TOKENS (20000 per round), ROUNDS (3), SWIFT_BUILD_FLAGS (extra flags, e.g.
# --static-swift-stdlib to share .build-release with scripts/image-test.sh), SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=.build-release
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    # shellcheck disable=SC2086
    swift build -c release --scratch-path "$SCRATCH" --product jws-bench ${SWIFT_BUILD_FLAGS:-} >&2
fi
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
echo "commit $(git rev-parse --short HEAD), $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" >&2
"$BIN/jws-bench" --tokens "${TOKENS:-20000}" --rounds "${ROUNDS:-3}"
