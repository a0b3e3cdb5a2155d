#!/usr/bin/env bash
# Builds FerretDB (MongoDB wire protocol over embedded SQLite) into a cache folder outside the
# clone, once per machine. Tests, CI and the embedded default of `npm start` use it because
# these machines cannot download a mongod binary.
#
# Why the copy-and-build: a plain `go install .../cmd/ferretdb@v1.24.2` builds a binary that
# panics at start, because build/version/version.txt is git-ignored upstream and so missing
# from the module zip. We copy the module, write the version file, then build.
set -euo pipefail

VERSION="${FERRETDB_VERSION:-v1.24.2}"
CACHE_DIR="${DVBOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dvbot}"
TARGET="$CACHE_DIR/ferretdb-$VERSION"

if [ -x "$TARGET" ]; then
  echo "FerretDB $VERSION already built: $TARGET"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "FerretDB needs Go 1.24+ to build; install Go or set MONGODB_URI." >&2
  exit 1
fi

mkdir -p "$CACHE_DIR"
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

echo "Building FerretDB $VERSION into $TARGET (about a minute, once per machine)..."
MOD_DIR="$(cd "$WORK" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$MOD_DIR" ] || [ ! -d "$MOD_DIR" ]; then
  echo "Could not download the FerretDB module $VERSION from the Go module proxy." >&2
  exit 1
fi

cp -r "$MOD_DIR" "$WORK/src"
chmod -R u+w "$WORK/src"
mkdir -p "$WORK/src/build/version"
printf '%s' "$VERSION" > "$WORK/src/build/version/version.txt"
(cd "$WORK/src" && CGO_ENABLED=0 go build -trimpath -o "$WORK/ferretdb" ./cmd/ferretdb)
# Move into place last, so an interrupted build never leaves a half-written binary behind.
mv "$WORK/ferretdb" "$TARGET.tmp.$$"
mv "$TARGET.tmp.$$" "$TARGET"
echo "FerretDB $VERSION ready: $TARGET"
