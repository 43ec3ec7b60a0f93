#!/bin/sh
# Builds the binary the container image runs, exactly as docker/Dockerfile does: glibc linked
# statically (`-C target-feature=+crt-static`, no musl target needed), so that it runs from an
# empty image with no shared library beside it. tests/static_binary.rs builds it the same way
# (PROFILE=dev, to save time) and checks that it is static and answers its health check.
#
# Usage: docker/build-static.sh [OUTPUT]   (default: target/static/eventbridge-local)
# Environment: PROFILE (release), CARGO_TARGET_DIR, CARGO.
set -eu
cd "$(dirname "$0")/.."
profile="${PROFILE:-release}"
output="${1:-target/static/eventbridge-local}"
cargo="${CARGO:-cargo}"
# The host triple given explicitly: RUSTFLAGS then apply to the binary only, not to build
# scripts and proc macros (which cannot be linked statically).
triple="$(rustc -vV | sed -n 's/^host: //p')"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  "$cargo" build --locked --profile "$profile" --target "$triple" --bin eventbridge-local
case "$profile" in
  dev) dir=debug ;;
  *) dir="$profile" ;;
esac
mkdir -p "$(dirname "$output")"
cp "${CARGO_TARGET_DIR:-target}/$triple/$dir/eventbridge-local" "$output"
echo "static binary: $output"
