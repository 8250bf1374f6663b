{{/*
The chart's name, or nameOverride.
*/}}
{{- define "streamtrain.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects: fullnameOverride, or <release>-<name>, or <release> when the release
name already contains the chart name; cut to 63 characters (the DNS label limit).
*/}}
{{- define "streamtrain.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, as in the helm.sh/chart label.
*/}}
{{- define "streamtrain.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object (without Helm's own when helmLabels is false: the plain manifests in k8s/).
*/}}
{{- define "streamtrain.labels" -}}
{{- if .Values.helmLabels }}
helm.sh/chart: {{ include "streamtrain.chart" . }}
{{ end }}
{{- include "streamtrain.selectorLabels" . }}
app.kubernetes.io/part-of: streamtrain
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- if .Values.helmLabels }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- end }}

{{/*
Selector labels (a component label is added for the trainer and the serving replicas).
*/}}
{{- define "streamtrain.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamtrain.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The container image: registry/repository:tag, the tag defaulting to the chart's appVersion.
*/}}
{{- define "streamtrain.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- if .Values.image.registry }}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "streamtrain.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "streamtrain.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the ConfigMap holding the model spec, and the key of the spec in it.
*/}}
{{- define "streamtrain.modelSpecConfigMap" -}}
{{- default (printf "%s-model-spec" (include "streamtrain.fullname" .)) .Values.model.existingConfigMap }}
{{- end }}

{{- define "streamtrain.modelSpecKey" -}}
{{- if .Values.model.existingConfigMap }}{{ .Values.model.existingConfigMapKey }}{{ else }}spec.yaml{{ end }}
{{- end }}

{{/*
A Kubernetes memory quantity (plain bytes, or with Ki, Mi, Gi, Ti, k, M, G, T) in MiB, as a float.
*/}}
{{- define "streamtrain.quantityMiB" -}}
{{- $q := . | toString | trim }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $q }}
{{- $factors := dict "" 0.00000095367431640625 "Ki" 0.0009765625 "Mi" 1.0 "Gi" 1024.0 "Ti" 1048576.0 "k" 0.00095367431640625 "M" 0.95367431640625 "G" 953.67431640625 "T" 953674.31640625 }}
{{- if or (not $number) (not (hasKey $factors (trimPrefix $number $q))) }}
{{- fail (printf "cannot read the memory quantity %q" $q) }}
{{- end }}
{{- mulf (float64 $number) (get $factors (trimPrefix $number $q)) }}
{{- end }}

{{/*
JavaCPP's maxbytes in MiB, as JavaCPP 1.5.7 parses it (Pointer.parseBytes): digits, then k, m, g or t with an
optional b, any case (binary multiples), or % of the maximum heap. Called with (dict "value" <maxbytes> "heapMiB" <heap>).
*/}}
{{- define "streamtrain.javacppMiB" -}}
{{- $q := .value | toString | trim | lower }}
{{- if not (regexMatch "^[0-9]+([kmgt]b?|%)?$" $q) }}
{{- fail (printf "jvm.offHeapMaxBytes %q: JavaCPP reads digits followed by k, m, g or t (e.g. 512m), or by %% for a share of the heap (e.g. 75%%)" $q) }}
{{- end }}
{{- $number := regexFind "^[0-9]+" $q }}
{{- if hasSuffix "%" $q }}
{{- divf (mulf (float64 $number) .heapMiB) 100.0 }}
{{- else }}
{{- $factors := dict "" 0.00000095367431640625 "k" 0.0009765625 "m" 1.0 "g" 1024.0 "t" 1048576.0 }}
{{- mulf (float64 $number) (get $factors (trimSuffix "b" (trimPrefix $number $q))) }}
{{- end }}
{{- end }}

{{/*
JAVA_OPTS_APPEND of a component (dict "jvm" <values.jvm> "resources" <values.resources> "component" <name>):
heap as a percentage of the memory limit, ND4J's off-heap cap, exit on OutOfMemoryError, JavaCPP's cache and
the temporary directory on the writable /tmp volume. Refuses a limit that cannot hold heap + off-heap + a
reserve of 384 MiB for metaspace, code cache, thread stacks and native libraries.
*/}}
{{- define "streamtrain.javaOpts" -}}
{{- $limit := required (printf "%s.resources.limits.memory is required: the JVM sizes its heap from it" .component) (dig "limits" "memory" "" .resources) }}
{{- $limitMiB := include "streamtrain.quantityMiB" $limit | float64 }}
{{- $heapMiB := divf (mulf $limitMiB (float64 .jvm.heapPercent)) 100.0 }}
{{- $offHeapMiB := include "streamtrain.javacppMiB" (dict "value" .jvm.offHeapMaxBytes "heapMiB" $heapMiB) | float64 }}
{{- if gt (addf $heapMiB $offHeapMiB 384.0) $limitMiB }}
{{- fail (printf "%s: heap (%v%% of %s = %.0f MiB) + off-heap (%v = %.0f MiB) + a reserve of 384 MiB exceed resources.limits.memory (%.0f MiB): lower jvm.heapPercent or jvm.offHeapMaxBytes, or raise the limit" .component .jvm.heapPercent $limit $heapMiB .jvm.offHeapMaxBytes $offHeapMiB $limitMiB) }}
{{- end }}
{{- $opts := list (printf "-XX:MaxRAMPercentage=%v" .jvm.heapPercent) "-XX:+ExitOnOutOfMemoryError" (printf "-Dorg.bytedeco.javacpp.maxbytes=%v" .jvm.offHeapMaxBytes) "-Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp" "-Djava.io.tmpdir=/tmp" }}
{{- if .jvm.extraOpts }}{{ $opts = append $opts .jvm.extraOpts }}{{ end }}
{{- join " " $opts }}
{{- end }}
