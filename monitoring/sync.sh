#!/bin/sh
# Copies the canonical Prometheus rules and Grafana dashboard into the Helm chart and regenerates the plain
# manifests in k8s/ from the chart (k8s/051-PrometheusRule-streamtrain.yaml and
# k8s/052-ConfigMap-streamtrain-grafana-dashboard.yaml carry them).
# Run it after editing monitoring/prometheus/streamtrain-rules.yaml or monitoring/grafana/streamtrain-dashboard.json;
# the test suite fails until the copies agree with them.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
rules="$root/monitoring/prometheus/streamtrain-rules.yaml"
dashboard="$root/monitoring/grafana/streamtrain-dashboard.json"

cp "$rules" "$root/helm/streamtrain/files/streamtrain-rules.yaml"
cp "$dashboard" "$root/helm/streamtrain/files/streamtrain-dashboard.json"

# k8s/ is the chart rendered with its default values (see docs/operations.md)
cd "$root" && ./mvnw -B -q -Pk8s-manifests process-test-classes
