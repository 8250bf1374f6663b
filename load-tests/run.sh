#!/usr/bin/env bash
# Inference load test: REST and gRPC, single-row requests at a fixed rate, with the service idle and while it
# trains flat out. Builds the service, starts it (embedded broker), runs the generator, prints a table and
# appends it to target/load-test-results.md.
#
#   load-tests/run.sh [rate per second, default 2000] [seconds per run, default 30] [scenarios, default "idle training"]
#
# Everything runs on this machine: the generator takes CPU from the service, as a client on the same host would.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-2000}
DURATION=${2:-30}
SCENARIOS=${3:-idle training}
PORT=${LOADTEST_PORT:-18080}
URL="http://127.0.0.1:$PORT"
RESULTS=target/load-test-results.md
OFFLINE=${MAVEN_OFFLINE:-}
WARMUP=${LOADTEST_WARMUP:-20}
# the REST clients to measure with (LoadTest --client): vertx (fixed connections), jdk (the JDK's HttpClient)
REST_CLIENTS=${LOADTEST_REST_CLIENTS:-vertx}
# training: passes over the digits in the backlog (1,797 examples each); it must outlast the whole scenario
PASSES=${LOADTEST_PASSES:-2500}
# extra JVM options of the service (e.g. a collector to compare: LOADTEST_JAVA_OPTS="-XX:+UseParallelGC")
JAVA_OPTS_SERVICE=${LOADTEST_JAVA_OPTS:-}
# as in ./demo and the container image: idle OpenMP threads must sleep, not spin against BLAS
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

if [ -z "${LOADTEST_NO_BUILD:-}" ]; then # set it to measure the service and generator already built
  ./mvnw -B -q $OFFLINE package -DskipTests
  ./mvnw -B -q $OFFLINE dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/loadtest.classpath
fi
CLASSPATH="target/test-classes:target/classes:$(cat target/loadtest.classpath)"
WORK=$(mktemp -d)
SERVICE_PID=
stop_service() {
  if [ -n "$SERVICE_PID" ]; then
    kill "$SERVICE_PID" 2>/dev/null || true
    wait "$SERVICE_PID" 2>/dev/null || true
    SERVICE_PID=
  fi
}
trap 'stop_service; rm -rf "$WORK"' EXIT

start_service() { # $1: extra -D options
  rm -f "$WORK/gc.log"
  (cd "$WORK" && rm -rf data && exec java -Xlog:gc:file="$WORK/gc.log":timemillis $JAVA_OPTS_SERVICE $1 -Dquarkus.http.port="$PORT" -jar "$OLDPWD/target/quarkus-app/quarkus-run.jar" \
      > "$WORK/service.log" 2>&1) &
  SERVICE_PID=$!
  for _ in $(seq 1 360); do # 3 minutes: a start on a machine loaded by others can take one or two
    if curl -fs "$URL/v2/health/ready" > /dev/null 2>&1; then return; fi
    sleep 0.5
  done
  echo "the service did not become ready; its log:" >&2; tail -40 "$WORK/service.log" >&2; exit 1
}

service_cpu() { # CPU seconds the service has used (user + system)
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$SERVICE_PID/stat"
}

examples() {
  local status
  status=$(curl -fs "$URL/v1/training/status") || return 0
  echo "$status" | sed -n 's/^{[^{]*"examples":\([0-9]*\).*/\1/p' 
}

backlog() { # records the trainer's consumer has yet to fetch
  local metrics
  metrics=$(curl -fs "$URL/q/metrics") || return 0
  echo "$metrics" | awk '/^kafka_consumer_fetch_manager_records_lag\{.*topic="streamtrain.examples"/ && !n++ { printf "%d", $2 }'
}

gc_pauses() { # $1, $2: window in ms since the epoch; the service's GC pauses in it
  awk -v a="$1" -v b="$2" -F'[][]' '/Pause/ { t = $2; sub("ms", "", t); if (t >= a && t <= b) {
      match($0, /[0-9.]+ms$/); v = substr($0, RSTART, RLENGTH - 2) + 0; n++; s += v; if (v > m) m = v } }
      END { printf "%d pauses, %.0f ms in all, longest %.1f ms", n, s, m }' "$WORK/gc.log"
}

idle_window() { # the trainer's examples/s over $DURATION s without requests; prints it
  local before after start end
  before=$(examples); start=$(date +%s.%N)
  sleep "$DURATION"
  after=$(examples); end=$(date +%s.%N)
  awk -v a="$after" -v b="$before" -v s="$start" -v e="$end" 'BEGIN { printf "%d", (a - b) / (e - s) }'
}

wait_for_producer() { # until the demo producer has sent its whole backlog (the topic's end stops moving)
  local last=-1 now trained left
  for _ in $(seq 1 200); do
    sleep 3
    trained=$(curl -fs "$URL/v1/training/status" | sed -n 's/.*"streamtrain.examples-0":\([0-9]*\).*/\1/p') || true
    left=$(backlog)
    if [ -z "$trained" ] || [ -z "$left" ]; then continue; fi # the consumer has not fetched yet
    now=$((trained + left))
    if [ "$now" -le $((last + 1000)) ]; then echo "backlog in place: $left records left to train"; return; fi
    last=$now
  done
  echo "the producer was still sending after 10 minutes" >&2; exit 1
}

{
  echo
  echo "Inference load test, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), single-row requests"
  echo
  echo "| scenario | protocol | rows | target rate /s | answered | achieved /s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | skipped | sent late p99 ms | in flight p99 ms | generator CPU ms/request |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} >> "$RESULTS"

for scenario in $SCENARIOS; do
  case $scenario in
    idle) start_service "-Dstreamtrain.demo.enabled=false" ;;
    training)
      # a backlog of ~1.8M examples: the trainer trains flat out for the whole measurement
      start_service "-Dstreamtrain.demo.enabled=true -Dstreamtrain.demo.passes=$PASSES -Dstreamtrain.demo.rate=0 -Dstreamtrain.demo.exit-after-summary=false"
      # measure while the trainer works through the backlog, not while the producer still fills it
      wait_for_producer ;;
    *) echo "unknown scenario $scenario (idle, training)" >&2; exit 2 ;;
  esac
  # warm-up of both JVMs' JIT at a gentle rate: a fresh JVM on 2 cores spends seconds compiling, and a
  # measurement that starts cold falls behind and never catches up (an open model does not slow down)
  for client in $REST_CLIENTS grpc; do
    protocol=rest
    if [ "$client" = grpc ]; then protocol=grpc; fi
    java -Xmx512m -cp "$CLASSPATH" dev.streamtrain.loadtest.LoadTest --url="$URL" --protocol="$protocol" \
        --client="$client" --rate=300 --duration="${WARMUP}s" --warmup=1s --label=warm-up \
        --results="$WORK/warm-up.md" > /dev/null
  done
  # training: the trainer's examples/s without requests, measured the same way, before and after each run
  idle_rates=()
  if [ "$scenario" = training ]; then idle_rates+=("$(idle_window)"); echo "trainer without requests: ${idle_rates[-1]} examples/s"; fi
  # idle: the liveness route as well, over the same stack in the same run, as the ceiling inference can reach
  operations="infer"
  if [ "$scenario" = idle ]; then operations="live infer"; fi
  operations=${LOADTEST_OPERATIONS:-$operations} # e.g. "infer" alone, to compare service options quickly
  for client in $REST_CLIENTS grpc; do
    protocol=rest
    if [ "$client" = grpc ]; then protocol=grpc; fi
    for operation in $operations; do
      before=$(examples || echo 0)
      cpu_before=$(service_cpu)
      load=$(cut -d' ' -f1 /proc/loadavg)
      start=$(date +%s.%N)
      output=$(java -Xmx512m -cp "$CLASSPATH" dev.streamtrain.loadtest.LoadTest --url="$URL" --protocol="$protocol" \
          --client="$client" --operation="$operation" --rate="$RATE" --duration="${DURATION}s" --warmup=5s \
          --label="$scenario" --results="$RESULTS" --service-pid="$SERVICE_PID")
      after=$(examples || echo 0)
      cpu_after=$(service_cpu)
      end=$(date +%s.%N)
      echo "$output" | grep -v '^answered in all' | tail -n +2
      echo "service JVM options: ${JAVA_OPTS_SERVICE:-(defaults)}"
      answered=$(echo "$output" | sed -n 's/^answered in all: //p')
      echo "load average $load -> $(cut -d' ' -f1 /proc/loadavg); service GC: $(gc_pauses "$(awk -v t="$start" 'BEGIN { printf "%.0f", t * 1000 }')" "$(date +%s%3N)")"
      echo "service CPU: $(awk -v a="$cpu_after" -v b="$cpu_before" -v s="$start" -v e="$end" -v n="$answered" \
          'BEGIN { printf "%.2f of 2 cores, %.3f ms per request", (a - b) / (e - s), 1000 * (a - b) / n }')"
      if [ "$scenario" = training ]; then
        during=$(awk -v a="$after" -v b="$before" -v s="$start" -v e="$end" 'BEGIN { printf "%d", (a - b) / (e - s) }')
        idle_rates+=("$(idle_window)")
        idle=$(printf '%s\n' "${idle_rates[@]: -2}" | awk '{ s += $1 } END { printf "%d", s / NR }')
        echo "trainer meanwhile: $during examples/s; without requests just before and after: ${idle_rates[-2]}, ${idle_rates[-1]} examples/s ($(awk -v d="$during" -v i="$idle" 'BEGIN { printf "%.0f", 100 * d / i }') % of their mean); backlog left: $(backlog) records"
      fi
    done
  done
  stop_service
done
echo "Results appended to $RESULTS"
