#!/usr/bin/env bash
# Builds the container image with no registry: the single executable (`npm run build`) on a base made
# here from this machine's own libraries (docker import), or on BASE when given, e.g. a distribution
# image from a registry. README "Container image and compose".
#   IMAGE       the tag to build (default oauth-https-proxy:latest)
#   BASE        the image to build on (e.g. debian:bookworm-slim); unset: oauth-https-proxy-base:latest, made here
#   STAGE       the build context it stages (default dist/image): the executable, a CA bundle, an empty data/
#   IF_MISSING  1: do nothing when IMAGE already exists (the tests tag each set of inputs once)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/image-root.sh

IMAGE=${IMAGE:-oauth-https-proxy:latest}
STAGE=${STAGE:-dist/image}
LOCAL_BASE=oauth-https-proxy-base:latest
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

if [ "${IF_MISSING:-0}" = 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "build-image: $IMAGE exists" >&2
  exit 0
fi
[ -r "$CA_BUNDLE" ] || { echo "build-image: no $CA_BUNDLE: install Debian ca-certificates" >&2; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE/data"
# The build script's own --outfile is overridden: the last one given wins.
npm run --silent build -- --outfile "$STAGE/oauth-https-proxy" >&2
cp -L "$CA_BUNDLE" "$STAGE/ca-certificates.crt"

base=${BASE:-}
if [ -z "$base" ]; then
  # The executable's shared libraries (glibc) and loader, a passwd entry for the user the Dockerfile
  # runs as, /tmp. libgcc_s is not in ldd's list: glibc loads it on demand to unwind a cancelled thread.
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  root_new "$root"
  root_add_user "$root" ohp 10001 /data
  # Not the executable itself: the Dockerfile adds it, so the base changes only with the libraries.
  root_add_libraries_of "$root" "$STAGE/oauth-https-proxy"
  libc=$(ldd "$STAGE/oauth-https-proxy" | awk '$1 == "libc.so.6" { print $3 }')
  [ -e "$(dirname "$libc")/libgcc_s.so.1" ] && root_add_library "$root" "$(dirname "$libc")/libgcc_s.so.1"
  root_import "$root" "$LOCAL_BASE" "" 0 'ENV PATH=/usr/local/bin'
  base=$LOCAL_BASE
fi

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
docker build -q --build-arg BASE="$base" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  -t "$IMAGE" -f Dockerfile "$STAGE" >/dev/null
echo "build-image: $IMAGE on $base, $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes" >&2
