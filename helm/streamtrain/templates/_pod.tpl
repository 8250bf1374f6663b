{{/*
The pod template of the trainer and of the serving replicas, which differ only where the component's values
do. Called with (dict "root" $ "component" "trainer"|"serving" "mode" "train"|"serve" "values" <its values>).
*/}}
{{- define "streamtrain.podTemplate" -}}
{{- $root := .root -}}
{{- $values := .values -}}
metadata:
  labels:
    {{- include "streamtrain.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- if not $root.Values.model.existingConfigMap }}
    checksum/model-spec: {{ include (print $root.Template.BasePath "/configmap-model-spec.yaml") $root | sha256sum }}
    {{- end }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "streamtrain.serviceAccountName" $root }}
  automountServiceAccountToken: false
  # service links would put <SERVICE>_PORT etc. into the environment, which Quarkus reads as configuration
  enableServiceLinks: false
  {{- if eq .component "trainer" }}
  terminationGracePeriodSeconds: {{ add $root.Values.checkpoint.shutdownTimeoutSeconds $values.shutdownMarginSeconds }}
  {{- else }}
  terminationGracePeriodSeconds: 30
  {{- end }}
  {{- with $root.Values.image.pullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 185
    runAsGroup: 185
    fsGroup: 185
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: streamtrain
      image: {{ include "streamtrain.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ include "streamtrain.fullname" $root }}-config
        {{- with $root.Values.extraEnvFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      env:
        - name: STREAMTRAIN_MODE
          value: {{ .mode | quote }}
        - name: STREAMTRAIN_MODEL_SPEC
          value: {{ printf "/etc/streamtrain/model/%s" (include "streamtrain.modelSpecKey" $root) | quote }}
        {{- if eq .component "trainer" }}
        - name: STREAMTRAIN_CHECKPOINT_SHUTDOWN_TIMEOUT
          value: {{ printf "%vs" $root.Values.checkpoint.shutdownTimeoutSeconds | quote }}
        {{- if gt (int $root.Values.trainer.replicas) 1 }}
        # trainer.replicas > 1: a group of trainers of one model (docs/scale-out.md)
        - name: STREAMTRAIN_CLUSTER_ENABLED
          value: "true"
        {{- end }}
        {{- end }}
        - name: OMP_WAIT_POLICY
          value: "PASSIVE"
        - name: JAVA_OPTS_APPEND
          value: {{ include "streamtrain.javaOpts" (dict "jvm" $values.jvm "resources" $values.resources "component" .component) | quote }}
        {{- with $root.Values.checkpoint.s3.existingSecret }}
        - name: AWS_ACCESS_KEY_ID
          valueFrom:
            secretKeyRef:
              name: {{ . }}
              key: AWS_ACCESS_KEY_ID
        - name: AWS_SECRET_ACCESS_KEY
          valueFrom:
            secretKeyRef:
              name: {{ . }}
              key: AWS_SECRET_ACCESS_KEY
        {{- end }}
        {{- if $root.Values.admin.existingSecret }}
        # the Secret's file, watched: a changed Secret rotates the token without a restart
        - name: STREAMTRAIN_ADMIN_TOKEN_FILE
          value: {{ printf "/etc/streamtrain/admin/%s" $root.Values.admin.existingSecretKey | quote }}
        {{- else }}
        {{- /* each pod generates its own token; the root filesystem is read-only, so it goes to /tmp */}}
        - name: STREAMTRAIN_ADMIN_TOKEN_FILE
          value: "/tmp/admin-token"
        {{- end }}
        {{- with $root.Values.kafka.security.jaasConfigSecret }}
        - name: KAFKA_SASL_JAAS_CONFIG
          valueFrom:
            secretKeyRef:
              name: {{ . }}
              key: {{ $root.Values.kafka.security.jaasConfigSecretKey }}
        {{- end }}
        {{- with $root.Values.kafka.tls }}
        {{- if .caSecret }}
        - name: KAFKA_SSL_TRUSTSTORE_TYPE
          value: "PEM"
        - name: KAFKA_SSL_TRUSTSTORE_LOCATION
          value: {{ printf "/etc/streamtrain/kafka-ca/%s" .caSecretKey | quote }}
        {{- end }}
        {{- if .keystoreSecret }}
        - name: KAFKA_SSL_KEYSTORE_TYPE
          value: "PKCS12"
        - name: KAFKA_SSL_KEYSTORE_LOCATION
          value: {{ printf "/etc/streamtrain/kafka-keystore/%s" .keystoreSecretKey | quote }}
        - name: KAFKA_SSL_KEYSTORE_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ .keystoreSecret }}
              key: {{ .keystorePasswordKey }}
        {{- end }}
        {{- end }}
        {{- with $root.Values.checkpoint.s3.caSecret }}
        - name: STREAMTRAIN_CHECKPOINT_S3_CA_FILE
          value: {{ printf "/etc/streamtrain/s3-ca/%s" $root.Values.checkpoint.s3.caSecretKey | quote }}
        {{- end }}
        {{- if $root.Values.tls.existingSecret }}
        # HTTPS only (REST, gRPC, metrics, probes), on the same container port; the probes follow the scheme.
        # The TLS registry's keys by their property names: their environment form (QUARKUS_TLS_KEY_STORE_PEM_0_CERT)
        # is ambiguous (the default TLS configuration sits next to named ones, and pem.<name> is a map), so Quarkus
        # does not read it and would start without TLS
        - name: quarkus.tls.key-store.pem.0.cert
          value: "/etc/streamtrain/tls/tls.crt"
        - name: quarkus.tls.key-store.pem.0.key
          value: "/etc/streamtrain/tls/tls.key"
        - name: quarkus.tls.reload-period
          value: "1h"
        - name: QUARKUS_HTTP_SSL_PORT
          value: "8080"
        - name: QUARKUS_HTTP_INSECURE_REQUESTS
          value: "disabled"
        {{- end }}
        {{- with $root.Values.servingToken.existingSecret }}
        - name: STREAMTRAIN_SERVING_TOKEN_FILE
          value: {{ printf "/etc/streamtrain/serving-token/%s" $root.Values.servingToken.existingSecretKey | quote }}
        {{- end }}
        {{- with $root.Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      startupProbe:
        httpGet:
          path: /q/health/started
          port: http
          {{- if $root.Values.tls.existingSecret }}
          scheme: HTTPS
          {{- end }}
        {{- toYaml $root.Values.probes.startup | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /q/health/live
          port: http
          {{- if $root.Values.tls.existingSecret }}
          scheme: HTTPS
          {{- end }}
        {{- toYaml $root.Values.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /q/health/ready
          port: http
          {{- if $root.Values.tls.existingSecret }}
          scheme: HTTPS
          {{- end }}
        {{- toYaml $root.Values.probes.readiness | nindent 8 }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      securityContext:
        runAsNonRoot: true
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop:
            - ALL
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: model-spec
          mountPath: /etc/streamtrain/model
          readOnly: true
        {{- if $root.Values.admin.existingSecret }}
        - name: admin-token
          mountPath: /etc/streamtrain/admin
          readOnly: true
        {{- end }}
        {{- range $name, $secret := (include "streamtrain.secretVolumes" $root | fromYaml) }}
        - name: {{ $name }}
          mountPath: {{ printf "/etc/streamtrain/%s" $name }}
          readOnly: true
        {{- end }}
        {{- with $root.Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    # JavaCPP extracts ND4J's native libraries (about 400 MB) here: on disk, not counted as memory
    - name: tmp
      emptyDir:
        sizeLimit: {{ $root.Values.tmpSizeLimit }}
    - name: model-spec
      configMap:
        name: {{ include "streamtrain.modelSpecConfigMap" $root }}
    {{- with $root.Values.admin.existingSecret }}
    - name: admin-token
      secret:
        secretName: {{ . }}
        defaultMode: 0400
    {{- end }}
    {{- range $name, $secret := (include "streamtrain.secretVolumes" $root | fromYaml) }}
    - name: {{ $name }}
      secret:
        secretName: {{ $secret }}
        defaultMode: 0400
    {{- end }}
    {{- with $root.Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
The Secrets of the secured transports that are mounted as files, volume name: Secret name (only those set): the
Kafka CA and client keystore, the S3 CA, the HTTPS certificate and the serving tokens, each under
/etc/streamtrain/<volume name>.
*/}}
{{- define "streamtrain.secretVolumes" -}}
{{- with .Values.kafka.tls.caSecret }}
kafka-ca: {{ . }}
{{- end }}
{{- with .Values.kafka.tls.keystoreSecret }}
kafka-keystore: {{ . }}
{{- end }}
{{- with .Values.checkpoint.s3.caSecret }}
s3-ca: {{ . }}
{{- end }}
{{- with .Values.tls.existingSecret }}
tls: {{ . }}
{{- end }}
{{- with .Values.servingToken.existingSecret }}
serving-token: {{ . }}
{{- end }}
{{- end }}
