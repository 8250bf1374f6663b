#!/usr/bin/env bash
# Builds the streamtrain image with podman (no daemon) from target/quarkus-app (run `./mvnw package` first).
#
#   docker/build-image.sh [image]         default image: ghcr.io/streamtrain/streamtrain:<project version>
#
# The base: BASE_IMAGE when set; else the Dockerfile's default (the UBI 9 OpenJDK 17 runtime) when it is in
# podman's storage or can be pulled; else one made here from Debian packages (bookworm, openjdk-17-jre-headless)
# with mmdebstrap and `podman import`, shaped like the UBI image where the Dockerfile relies on it: user 185
# (jboss, group 0, home /home/jboss), /deployments owned by it, LANG=C.UTF-8, and the launcher at
# /opt/jboss/container/java/run/run-java.sh (docker/debian-base/run-java.sh). Its root filesystem is kept as
# target/container/debian-base.tar and reused while that file is newer than this script and the launcher.
#
# Environment: BASE_IMAGE (skip the choice above), DEBIAN_MIRROR (default http://deb.debian.org/debian),
# PODMAN_RUNTIME (default runc when installed: crun fails on hosts with cgroup v1 and v2 mounted together).
# Needs podman, and for the Debian base mmdebstrap and root (or a subuid range for the unshare mode).
set -euo pipefail
cd "$(dirname "$0")/.."

DEFAULT_BASE="$(sed -n 's/^ARG BASE_IMAGE=//p' docker/Dockerfile)"
DEBIAN_BASE="localhost/streamtrain-base:bookworm-openjdk17"
VERSION="$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)"
IMAGE="${1:-ghcr.io/streamtrain/streamtrain:${VERSION}}"
WORK="target/container"

# the image a tag names now, to remove once the tag has moved on (when nothing else uses it)
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
drop_if_replaced() { if [ -n "$2" ] && [ "$2" != "$(image_id "$1")" ]; then podman rmi "$2" >/dev/null 2>&1 || true; fi; }

log() { printf '%s build-image: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { log "$*"; exit 1; }

[ -f target/quarkus-app/quarkus-run.jar ] || fail "target/quarkus-app/quarkus-run.jar is missing: run ./mvnw package first"
command -v podman >/dev/null || fail "podman is not installed (Debian: apt-get install podman uidmap runc)"
[ -n "$DEFAULT_BASE" ] || fail "no 'ARG BASE_IMAGE=' default in docker/Dockerfile"

podman_flags=()
runtime="${PODMAN_RUNTIME:-$(command -v runc >/dev/null && echo runc || true)}"
[ -z "$runtime" ] || podman_flags+=(--runtime "$runtime")
# podman asks for more open files and processes than a host without CAP_SYS_RESOURCE grants (setrlimit: operation
# not permitted): ask for 16384 and 8192, or the host's hard limit when lower
at_most() { local hard; hard="$(ulimit -H "$1")"; if [ "$hard" = unlimited ] || [ "$hard" -gt "$2" ]; then echo "$2"; else echo "$hard"; fi; }
nofile="$(at_most -n 16384)"
nproc="$(at_most -u 8192)"
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

make_debian_base() {
  local tar="$WORK/debian-base.tar"
  mkdir -p "$WORK"
  if [ ! -f "$tar" ] || [ "$tar" -ot "$0" ] || [ "$tar" -ot docker/debian-base/run-java.sh ]; then
    command -v mmdebstrap >/dev/null || fail "mmdebstrap is not installed (Debian: apt-get install mmdebstrap)"
    log "making a base from Debian packages into $tar"
    local launcher
    launcher="$(realpath docker/debian-base/run-java.sh)"
    # docs, man pages and translations are not needed in a server image (update-alternatives, run by the JRE's
    # postinst, still wants man1 to exist)
    mmdebstrap --variant=apt --format=tar --quiet \
      --include=openjdk-17-jre-headless,ca-certificates,libstdc++6,zlib1g \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
      --customize-hook='echo "jboss:x:185:0:JBoss user:/home/jboss:/sbin/nologin" >> "$1/etc/passwd"' \
      --customize-hook='mkdir -p "$1/home/jboss" "$1/deployments" "$1/opt/jboss/container/java/run"' \
      --customize-hook='chown 185:0 "$1/home/jboss" "$1/deployments"' \
      --customize-hook="upload $launcher /opt/jboss/container/java/run/run-java.sh" \
      --customize-hook='chmod 0755 "$1/opt/jboss/container/java/run/run-java.sh"' \
      bookworm "$tar.part" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
    mv "$tar.part" "$tar"
  fi
  log "importing $tar as $DEBIAN_BASE"
  local previous
  previous="$(image_id "$DEBIAN_BASE")"
  podman import --quiet \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
    --change 'USER 185' --change 'WORKDIR /home/jboss' \
    --message "Debian bookworm with openjdk-17-jre-headless, shaped like $DEFAULT_BASE" \
    "$tar" "$DEBIAN_BASE" >/dev/null
  drop_if_replaced "$DEBIAN_BASE" "$previous"
}

started=$SECONDS
base="${BASE_IMAGE:-}"
if [ -z "$base" ]; then
  if podman image exists "$DEFAULT_BASE" || timeout 120 podman pull --quiet "$DEFAULT_BASE" >/dev/null 2>&1; then
    base="$DEFAULT_BASE"
  else
    log "cannot pull $DEFAULT_BASE: using a base made from Debian packages"
    make_debian_base
    base="$DEBIAN_BASE"
  fi
fi
base_done=$SECONDS

log "building $IMAGE on $base"
previous="$(image_id "$IMAGE")"
# the build keeps its intermediate images (the throwaway stage alone holds ~350 MB beyond the base); they are
# removed afterwards, and only those it made. (--layers=false would keep none, but squashes the image's layers.)
dangling() { podman images --quiet --no-trunc --filter dangling=true | sort; }
dangling_before="$(dangling)"
podman "${podman_flags[@]}" build --quiet "${limits[@]}" --network=host \
  --build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$VERSION" \
  -f docker/Dockerfile -t "$IMAGE" . >/dev/null
drop_if_replaced "$IMAGE" "$previous"
made="$(comm -13 <(echo "$dangling_before") <(dangling))"
[ -z "$made" ] || podman rmi $made >/dev/null 2>&1 || true
log "built $IMAGE in $((SECONDS - base_done)) s (base: $((base_done - started)) s);" \
  "$(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
