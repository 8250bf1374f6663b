#!/usr/bin/env bash
# Hostile clients against a training service: while the trainer works through a backlog and an ordinary client
# sends single-row REST requests at a fixed rate, HostileClients attacks (slow bodies, slow headers, idle or
# silent connections, endless bodies, deep nesting, million-row claims, or all at once). Windows with and without an attack alternate, so each
# attack is compared with the baseline windows around it; prints the trainer's examples/s and the ordinary
# client's latency per window and the medians per attack. See docs/hardening.md.
#
#   load-tests/hostile.sh [rounds, default 3] [seconds per window, default 20] [attacks, default "slow headers idle connections oversized nested rows mixed"]
#
# HOSTILE_CLIENTS (200): attacking connections; HOSTILE_RATE (200): the ordinary client's requests per second.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
DURATION=${2:-20}
ATTACKS=${3:-slow headers idle connections oversized nested rows mixed}
CLIENTS=${HOSTILE_CLIENTS:-200}
RATE=${HOSTILE_RATE:-200}
PORT=${LOADTEST_PORT:-18080}
URL="http://127.0.0.1:$PORT"
OFFLINE=${MAVEN_OFFLINE:-}
PASSES=${LOADTEST_PASSES:-2500}
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

if [ -z "${LOADTEST_NO_BUILD:-}" ]; then
  ./mvnw -B -q $OFFLINE package -DskipTests
  ./mvnw -B -q $OFFLINE dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/loadtest.classpath
fi
CLASSPATH="target/test-classes:target/classes:$(cat target/loadtest.classpath)"
WORK=$(mktemp -d)
SERVICE_PID=
trap 'if [ -n "$SERVICE_PID" ]; then kill "$SERVICE_PID" 2>/dev/null || true; wait "$SERVICE_PID" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT

(cd "$WORK" && exec java -Dquarkus.http.port="$PORT" -Dstreamtrain.demo.enabled=true -Dstreamtrain.demo.passes="$PASSES" \
    -Dstreamtrain.demo.rate=0 -Dstreamtrain.demo.exit-after-summary=false -jar "$OLDPWD/target/quarkus-app/quarkus-run.jar" \
    > "$WORK/service.log" 2>&1) &
SERVICE_PID=$!
for _ in $(seq 1 360); do
  if curl -fs "$URL/v2/health/ready" > /dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fs "$URL/v2/health/ready" > /dev/null || { echo "the service did not become ready" >&2; tail -40 "$WORK/service.log" >&2; exit 1; }

examples() { curl -fs "$URL/v1/training/status" | sed -n 's/^{[^{]*"examples":\([0-9]*\).*/\1/p'; }
backlog() { curl -fs "$URL/q/metrics" | awk '/^kafka_consumer_fetch_manager_records_lag\{.*topic="streamtrain.examples"/ && !n++ { printf "%d", $2 }'; }

# the producer fills the backlog first; measure only once it has sent everything
last=-1
for _ in $(seq 1 200); do
  sleep 3
  now=$(examples || echo 0); left=$(backlog || echo 0)
  if [ -n "$now" ] && [ -n "$left" ] && [ $((now + left)) -le $((last + 1000)) ]; then break; fi
  last=$((${now:-0} + ${left:-0}))
done
echo "backlog in place: $(backlog) records"
java -Xmx256m -cp "$CLASSPATH" dev.streamtrain.loadtest.LoadTest --url="$URL" --protocol=rest --rate=300 --duration=20s \
    --warmup=1s --label=warm-up --results="$WORK/warm-up.md" > /dev/null

echo "| round | attack | load average | trainer examples/s | ordinary p50 ms | p99 ms | p99.9 ms | ordinary errors | attacker's outcomes |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
: > "$WORK/windows"
for round in $(seq 1 "$ROUNDS"); do
  for attack in baseline $ATTACKS; do
    outcomes=
    if [ "$attack" != baseline ]; then
      java -Xmx512m -cp "$CLASSPATH" dev.streamtrain.loadtest.HostileClients --url="$URL" --attack="$attack" \
          --clients="$CLIENTS" --duration="$((DURATION + 8))s" > "$WORK/attack.out" 2>&1 &
      ATTACKER=$!
      sleep 5 # the attack builds up (connections opened, slow bodies started) before the measurement
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(examples); start=$(date +%s.%N)
    line=$(java -Xmx256m -cp "$CLASSPATH" dev.streamtrain.loadtest.LoadTest --url="$URL" --protocol=rest --rate="$RATE" \
        --duration="${DURATION}s" --warmup=1s --label="$attack" --results="$WORK/results.md" | grep '^| ' | tail -1)
    after=$(examples); end=$(date +%s.%N)
    if [ "$attack" != baseline ]; then wait "$ATTACKER" || true; outcomes=$(sed -n 's/^hostile [^:]*: //p' "$WORK/attack.out"); fi
    rate=$(awk -v a="$after" -v b="$before" -v s="$start" -v e="$end" 'BEGIN { printf "%d", (a - b) / (e - s) }')
    echo "$line" | awk -F' *\\| *' -v r="$round" -v a="$attack" -v l="$load" -v t="$rate" -v o="$outcomes" \
        '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, a, l, t, $8, $10, $11, $12, o }' | tee -a "$WORK/windows"
  done
done
echo
echo "Medians over the rounds (trainer as a percentage of the baseline windows' median):"
awk -F' *\\| *' '{ k = $3; n[k]++; t[k, n[k]] = $5; p50[k, n[k]] = $6; p99[k, n[k]] = $7 }
  function median(a, k, c,   i, j, v, x) { for (i = 1; i <= c; i++) v[i] = a[k, i] + 0;
      for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
      return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
  END { base = median(t, "baseline", n["baseline"]);
        for (k in n) printf "%-10s trainer %6d examples/s (%3.0f %%), ordinary p50 %.2f ms, p99 %.2f ms\n", k,
            median(t, k, n[k]), 100 * median(t, k, n[k]) / base, median(p50, k, n[k]), median(p99, k, n[k]) }' "$WORK/windows"
echo "backlog left: $(backlog) records"
