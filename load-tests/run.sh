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
# as in ./demo and the container image: idle OpenMP threads must sleep, not spin against BLAS
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

./mvnw -B -q $OFFLINE package -DskipTests
./mvnw -B -q $OFFLINE dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/loadtest.classpath
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
  (cd "$WORK" && rm -rf data && exec java $1 -Dquarkus.http.port="$PORT" -jar "$OLDPWD/target/quarkus-app/quarkus-run.jar" \
      > "$WORK/service.log" 2>&1) &
  SERVICE_PID=$!
  for _ in $(seq 1 120); do
    if curl -fs "$URL/v2/health/ready" > /dev/null 2>&1; then return; fi
    sleep 0.5
  done
  echo "the service did not become ready; its log:" >&2; tail -40 "$WORK/service.log" >&2; exit 1
}

service_cpu() { # CPU seconds the service has used (user + system)
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$SERVICE_PID/stat"
}

examples() {
  curl -fs "$URL/v1/training/status" | sed -n 's/.*"examples":\([0-9]*\).*/\1/p' | head -1
}

{
  echo
  echo "Inference load test, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), single-row requests"
  echo
  echo "| scenario | protocol | rows | target rate /s | answered | achieved /s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | skipped |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} >> "$RESULTS"

for scenario in $SCENARIOS; do
  case $scenario in
    idle) start_service "-Dstreamtrain.demo.enabled=false" ;;
    training)
      # a backlog of ~1.8M examples: the trainer trains flat out for the whole measurement
      start_service "-Dstreamtrain.demo.enabled=true -Dstreamtrain.demo.passes=1000 -Dstreamtrain.demo.rate=0 -Dstreamtrain.demo.exit-after-summary=false"
      sleep 15 ;;
    *) echo "unknown scenario $scenario (idle, training)" >&2; exit 2 ;;
  esac
  # warm-up of both JVMs' JIT at a gentle rate: a fresh JVM on 2 cores spends seconds compiling, and a
  # measurement that starts cold falls behind and never catches up (an open model does not slow down)
  for protocol in rest grpc; do
    java -Xmx512m -cp "$CLASSPATH" dev.streamtrain.loadtest.LoadTest --url="$URL" --protocol="$protocol" \
        --rate=300 --duration="${WARMUP}s" --warmup=1s --label=warm-up --results="$WORK/warm-up.md" > /dev/null
  done
  # idle: the liveness route as well, over the same stack in the same run, as the ceiling inference can reach
  operations="infer"
  if [ "$scenario" = idle ]; then operations="live infer"; fi
  for protocol in rest grpc; do
    for operation in $operations; do
      before=$(examples || echo 0)
      cpu_before=$(service_cpu)
      start=$(date +%s.%N)
      output=$(java -Xmx512m -cp "$CLASSPATH" dev.streamtrain.loadtest.LoadTest --url="$URL" --protocol="$protocol" \
          --operation="$operation" --rate="$RATE" --duration="${DURATION}s" --warmup=5s --label="$scenario" \
          --results="$RESULTS")
      after=$(examples || echo 0)
      cpu_after=$(service_cpu)
      end=$(date +%s.%N)
      echo "$output" | grep -v '^answered in all' | tail -2
      answered=$(echo "$output" | sed -n 's/^answered in all: //p')
      echo "service CPU: $(awk -v a="$cpu_after" -v b="$cpu_before" -v s="$start" -v e="$end" -v n="$answered" \
          'BEGIN { printf "%.2f of 2 cores, %.3f ms per request", (a - b) / (e - s), 1000 * (a - b) / n }')"
      echo "trainer meanwhile: $(awk -v a="$after" -v b="$before" -v s="$start" -v e="$end" 'BEGIN { printf "%d", (a - b) / (e - s) }') examples/s"
    done
  done
  stop_service
done
echo "Results appended to $RESULTS"
