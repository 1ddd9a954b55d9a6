#!/usr/bin/env bash
# Builds a Redis image with no registry, from this machine's Debian redis-server (apt-get install
# redis-server) and its shared libraries, for compose.yaml (REDIS_IMAGE). It runs as uid 999, as the
# official redis image does, so a volume can move between the two. README "Container image and compose".
#   IMAGE       the tag to build (default oauth-https-proxy-redis:latest)
#   IF_MISSING  1: do nothing when IMAGE already exists
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/image-root.sh

IMAGE=${IMAGE:-oauth-https-proxy-redis:latest}
REDIS_UID=999

if [ "${IF_MISSING:-0}" = 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "build-redis-image: $IMAGE exists" >&2
  exit 0
fi
server=$(command -v redis-server || true)
[ -n "$server" ] || { echo "build-redis-image: no redis-server: apt-get install redis-server" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
root_new "$root"
root_add_user "$root" redis "$REDIS_UID" /data
mkdir "$root/data"
# Debian's redis-server is a link to redis-check-rdb; the program picks its role from the name it is run by.
root_add_executable "$root" "$server" /usr/local/bin/redis-server
# No protected mode: without a password it would refuse every client that is not on loopback, and the
# server reaches Redis over compose's internal network, which nothing else joins.
root_import "$root" "$IMAGE" /data "$REDIS_UID" \
  'ENV PATH=/usr/local/bin' "USER $REDIS_UID:$REDIS_UID" 'WORKDIR /data' 'VOLUME /data' 'EXPOSE 6379' \
  'CMD ["redis-server", "--protected-mode", "no"]'
echo "build-redis-image: $IMAGE from $("$server" --version | cut -d' ' -f1-3), $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes" >&2
