#!/bin/sh
# The launcher of the Debian base image (docker/build-image.sh), at the path where the UBI OpenJDK runtime images
# keep theirs (/opt/jboss/container/java/run/run-java.sh), so that docker/Dockerfile runs the same on both bases.
#
# It keeps the part of that script's contract the image and the manifests use, with the same defaults:
#   JAVA_APP_DIR (default /deployments, the working directory), JAVA_APP_JAR (the jar, absolute or in JAVA_APP_DIR),
#   JAVA_OPTS (when set, replaces everything below), JAVA_MAX_MEM_RATIO (-XX:MaxRAMPercentage, default 80, 0 = none),
#   GC_CONTAINER_OPTIONS (default -XX:+UseParallelGC) with GC_MIN_HEAP_FREE_RATIO (10), GC_MAX_HEAP_FREE_RATIO (20),
#   GC_TIME_RATIO (4), GC_ADAPTIVE_SIZE_POLICY_WEIGHT (90), GC_METASPACE_SIZE, GC_MAX_METASPACE_SIZE (MiB),
#   JAVA_DIAGNOSTICS, -XX:+ExitOnOutOfMemoryError, then JAVA_OPTS_APPEND; arguments go to the application.
# Not kept: JAVA_MAIN_CLASS, JAVA_CLASSPATH, the debug and proxy options, run-env.sh.
set -eu

app_dir="${JAVA_APP_DIR:-/deployments}"
jar="${JAVA_APP_JAR:-quarkus-app/quarkus-run.jar}"
case "$jar" in
  /*) ;;
  *) jar="$app_dir/$jar" ;;
esac
if [ ! -f "$jar" ]; then
  echo "run-java.sh: no application jar at $jar (set JAVA_APP_JAR)" >&2
  exit 1
fi

defaults() {
  case "${JAVA_MAX_MEM_RATIO:-}" in
    0) ;;
    "") printf '%s ' "-XX:MaxRAMPercentage=80.0" ;;
    *) printf '%s ' "-XX:MaxRAMPercentage=$(printf '%.0f' "$JAVA_MAX_MEM_RATIO").0" ;;
  esac
  printf '%s ' "${GC_CONTAINER_OPTIONS:--XX:+UseParallelGC}" \
    "-XX:MinHeapFreeRatio=${GC_MIN_HEAP_FREE_RATIO:-10}" "-XX:MaxHeapFreeRatio=${GC_MAX_HEAP_FREE_RATIO:-20}" \
    "-XX:GCTimeRatio=${GC_TIME_RATIO:-4}" "-XX:AdaptiveSizePolicyWeight=${GC_ADAPTIVE_SIZE_POLICY_WEIGHT:-90}"
  if [ -n "${GC_MAX_METASPACE_SIZE:-}" ]; then printf '%s ' "-XX:MaxMetaspaceSize=${GC_MAX_METASPACE_SIZE}m"; fi
  if [ -n "${GC_METASPACE_SIZE:-}" ]; then printf '%s ' "-XX:MetaspaceSize=${GC_METASPACE_SIZE}m"; fi
  if [ -n "${JAVA_DIAGNOSTICS:-}" ]; then printf '%s ' "-Xlog:gc::utctime" "-XX:NativeMemoryTracking=summary"; fi
  printf '%s ' "-XX:+ExitOnOutOfMemoryError" "${JAVA_OPTS_APPEND:-}"
}

if [ "${JAVA_OPTS+set}" = set ]; then
  options="$JAVA_OPTS"
else
  options="$(defaults)"
fi

cd "$app_dir"
echo "Starting the Java application using $0: java $options -cp . -jar $jar $*"
# word splitting of the options is intended, as in the UBI script
# shellcheck disable=SC2086
exec java $options -cp . -jar "$jar" "$@"
