{{/* Labels on every object. */}}
{{- define "arl.labels" -}}
app: arl-operator
app.kubernetes.io/name: arl
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The operator pods' selector (also the Services' and the PDB's). */}}
{{- define "arl.selectorLabels" -}}
app: arl-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "arl.imageRef" -}}
{{- $img := index . 0 -}}{{- $chart := index . 1 -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default $chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end }}

{{/* Names the operator is told through flags; cluster-scoped ones are fixed (one install per cluster). */}}
{{- define "arl.webhookService" -}}arl-webhook-service{{- end }}
{{- define "arl.webhookConfig" -}}arl-validating-webhook-configuration{{- end }}
{{- define "arl.webhookSecret" -}}arl-webhook-cert{{- end }}

{{- /*
arl.generatedRules: the rules of the object of kind .kind (ClusterRole or
Role) in files/role.yaml, controller-gen's output from the +kubebuilder:rbac
markers; a YAML list.
*/ -}}
{{- define "arl.generatedRules" -}}
{{- $rules := list }}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" (.root.Files.Get "files/role.yaml") -1 }}
{{- $obj := fromYaml $doc }}
{{- if eq (toString (get $obj "kind")) $.kind }}
{{- $rules = get $obj "rules" }}
{{- end }}
{{- end }}
{{- if not $rules }}{{ fail (printf "files/role.yaml has no %s: run make manifests" $.kind) }}{{ end }}
{{- toYaml $rules }}
{{- end }}
