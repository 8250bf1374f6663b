#!/bin/sh
# Streams the bundled digits (src/main/resources/datasets/digits.csv.gz: 64 pixels and the label per line) to the
# examples topic as the service's own demo does: one JSON example per record, keyed "digit-<row>" (the key decides
# held-out membership), PASSES passes each in a shuffle seeded by SEED + pass, and four bad records per pass
# (malformed, wrong shape, NaN, bad label) that end in the dead-letter topic.
# Runs in the apache/kafka image (busybox sh, awk, sort, cut; kafka-console-producer.sh).
set -eu

BOOTSTRAP_SERVERS="${BOOTSTRAP_SERVERS:-kafka:19092}"
TOPIC="${TOPIC:-streamtrain.examples}"
PASSES="${PASSES:-5}"
SEED="${SEED:-42}"
DIGITS="${DIGITS:-/data/digits.csv.gz}"
PRODUCER="${PRODUCER:-/opt/kafka/bin/kafka-console-producer.sh}"

records() {
    pass=0
    while [ "$pass" -lt "$PASSES" ]; do
        # a random sort key per record, then sorted and dropped: a seeded shuffle
        gunzip -c "$DIGITS" | awk -F, -v seed="$((SEED + pass))" -v pass="$pass" '
            BEGIN { srand(seed) }
            NF >= 65 {
                json = "{\"features\":[" ($1 + 0)
                for (j = 2; j <= 64; j++) json = json "," ($j + 0)
                json = json "],\"label\":" ($65 + 0) "}"
                printf "%010d\tdigit-%d\t%s\n", int(rand() * 1000000000), NR - 1, json
            }
            END {
                nan = "NaN"; zeros = "0"
                for (j = 2; j <= 64; j++) { nan = nan ",NaN"; zeros = zeros ",0" }
                printf "%010d\tbad-%d-0\t%s\n", int(rand() * 1000000000), pass, "{\"features\": [1, 2, 3"
                printf "%010d\tbad-%d-1\t%s\n", int(rand() * 1000000000), pass, "{\"features\": [1, 2, 3], \"label\": 1}"
                printf "%010d\tbad-%d-2\t%s\n", int(rand() * 1000000000), pass, "{\"features\": [" nan "], \"label\": 1}"
                printf "%010d\tbad-%d-3\t%s\n", int(rand() * 1000000000), pass, "{\"features\": [" zeros "], \"label\": 12}"
            }' | sort | cut -f 2-
        pass=$((pass + 1))
    done
}

tab="$(printf '\t')"
echo "Producing $PASSES passes of the digits to $TOPIC at $BOOTSTRAP_SERVERS"
records | "$PRODUCER" --bootstrap-server "$BOOTSTRAP_SERVERS" --topic "$TOPIC" \
    --property parse.key=true --property "key.separator=$tab"
echo "Done: $PASSES passes of the digits sent to $TOPIC"
