{{/* Selector labels: only name + instance, because selectors are immutable. */}}
{{- define "qwen.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.nameLabel | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/* Recommended labels on every object. */}}
{{- define "qwen.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{ include "qwen.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.appVersion | quote }}
app.kubernetes.io/component: inference-server
app.kubernetes.io/part-of: qwen-plan
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end }}

{{- define "qwen.image" -}}
{{- $img := printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- if .Values.image.digest }}{{ $img = printf "%s@%s" $img .Values.image.digest }}{{ end -}}
{{- $img -}}
{{- end }}

{{- define "qwen.cacheClaim" -}}
{{- printf "%s-model-cache" .Release.Name -}}
{{- end }}

{{- define "qwen.targetRef" -}}
{{- if .Values.multiNode.enabled }}
apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
{{- else }}
apiVersion: apps/v1
kind: Deployment
{{- end }}
name: {{ .Release.Name | quote }}
{{- end }}

{{/*
Pod template. Call with (dict "root" $ "serving" true|false "command" list "args" list):
`serving` adds the HTTP port and probes (a LeaderWorkerSet worker serves no HTTP).
*/}}
{{- define "qwen.pod" -}}
{{- $v := .root.Values -}}
metadata:
  labels:
    {{- include "qwen.labels" .root | nindent 4 }}
spec:
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  nodeSelector:
    {{- toYaml $v.nodeSelector | nindent 4 }}
  tolerations:
    {{- toYaml $v.tolerations | nindent 4 }}
  {{- if $v.multiNode.computeDomain.enabled }}
  affinity:
    {{- toYaml $v.multiNode.computeDomain.affinity | nindent 4 }}
  resourceClaims:
    - name: nvlink-channel
      resourceClaimTemplateName: {{ $v.multiNode.computeDomain.claimTemplate | quote }}
  {{- end }}
  containers:
    - name: {{ $v.engine.name | quote }}
      image: {{ include "qwen.image" .root | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy | quote }}
      command:
        {{- toYaml .command | nindent 8 }}
      args:
        {{- toYaml .args | nindent 8 }}
      env:
        {{- toYaml $v.env | nindent 8 }}
      {{- if .serving }}
      ports:
        - name: http
          containerPort: {{ $v.port }}
          protocol: TCP
      {{- end }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      {{- if .serving }}
      startupProbe:
        httpGet: {path: {{ $v.healthPath | quote }}, port: http}
        periodSeconds: {{ $v.probes.startup.periodSeconds }}
        timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
        failureThreshold: {{ $v.probes.startup.failureThreshold }}
      readinessProbe:
        httpGet: {path: {{ $v.healthPath | quote }}, port: http}
        periodSeconds: {{ $v.probes.readiness.periodSeconds }}
        timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
        failureThreshold: {{ $v.probes.readiness.failureThreshold }}
      livenessProbe:
        httpGet: {path: {{ $v.healthPath | quote }}, port: http}
        periodSeconds: {{ $v.probes.liveness.periodSeconds }}
        timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
        failureThreshold: {{ $v.probes.liveness.failureThreshold }}
      {{- end }}
      lifecycle:
        preStop:
          sleep: {seconds: {{ $v.preStopSleepSeconds }}}
      volumeMounts:
        - {name: dshm, mountPath: /dev/shm}
        - {name: home, mountPath: /home/app}
        - {name: tmp, mountPath: /tmp}
        - {name: model-cache, mountPath: /models/cache}
        - {name: hf-token, mountPath: /var/run/secrets/huggingface, readOnly: true}
  volumes:
    - name: dshm
      emptyDir: {medium: Memory, sizeLimit: {{ $v.shmSizeLimit | quote }}}
    - name: home
      emptyDir: {}
    - name: tmp
      emptyDir: {}
    - name: model-cache
      persistentVolumeClaim: {claimName: {{ include "qwen.cacheClaim" .root | quote }}}
    - name: hf-token
      secret:
        secretName: {{ $v.hfToken.secretName | quote }}
        optional: true
        defaultMode: 288
        items:
          - {key: {{ $v.hfToken.key | quote }}, path: token}
{{- end }}
