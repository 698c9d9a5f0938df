{{- define "warmstart.labels" -}}
app.kubernetes.io/name: warmstart
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "warmstart.image" -}}
{{ .root.Values.image.repository }}/{{ .name }}:{{ .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- end -}}

{{/* The name the agents' certificate is issued for and the operator checks. */}}
{{- define "warmstart.agentServerName" -}}
{{ .Values.agent.tls.serverName | default (printf "%s-agent.%s.svc" .Release.Name .Release.Namespace) }}
{{- end -}}

{{- define "warmstart.agentTlsSecret" -}}
{{ .Values.agent.tls.existingSecret | default (printf "%s-agent-tls" .Release.Name) }}
{{- end -}}
