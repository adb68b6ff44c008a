{{/* ------------------------------------------------------------------ names */}}

{{- define "mcp-recorder.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name. Kept short enough for "-collector-headless" etc. */}}
{{- define "mcp-recorder.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mcp-recorder.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcp-recorder.webhook.fullname" -}}{{ include "mcp-recorder.fullname" . }}-webhook{{- end -}}
{{- define "mcp-recorder.collector.fullname" -}}{{ include "mcp-recorder.fullname" . }}-collector{{- end -}}
{{- define "mcp-recorder.ca.secretName" -}}{{ include "mcp-recorder.fullname" . }}-ca{{- end -}}

{{/* Cluster-scoped objects carry the namespace: two releases of the same name in different
     namespaces must not overwrite each other's webhook configuration or binding. */}}
{{- define "mcp-recorder.clusterName" -}}
{{- printf "%s-%s" (include "mcp-recorder.fullname" .) .Release.Namespace | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcp-recorder.webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create -}}
{{- default (include "mcp-recorder.webhook.fullname" .) .Values.webhook.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.webhook.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "mcp-recorder.collector.serviceAccountName" -}}
{{- if .Values.collector.serviceAccount.create -}}
{{- default (include "mcp-recorder.collector.fullname" .) .Values.collector.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.collector.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* ------------------------------------------------------------------ labels */}}

{{- define "mcp-recorder.labels" -}}
helm.sh/chart: {{ include "mcp-recorder.chart" . }}
app.kubernetes.io/name: {{ include "mcp-recorder.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcp-recorder
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component (dict "root" $ "component" "webhook"). The
     mcp-recorder.io/component label keeps the chart's own objects out of both webhooks'
     objectSelectors, whatever namespace they are in. */}}
{{- define "mcp-recorder.componentLabels" -}}
{{ include "mcp-recorder.labels" .root }}
app.kubernetes.io/component: {{ .component }}
mcp-recorder.io/component: {{ .component }}
{{- end -}}

{{- define "mcp-recorder.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-recorder.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* ------------------------------------------------------------------ images */}}

{{- define "mcp-recorder.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The injected image: the chart's image unless sidecar.image says otherwise. */}}
{{- define "mcp-recorder.sidecar.image" -}}
{{- $s := .Values.sidecar.image -}}
{{- if or $s.repository $s.tag $s.digest -}}
{{- $repository := default .Values.image.repository $s.repository -}}
{{- if $s.digest -}}
{{- printf "%s@%s" $repository $s.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default (default .Chart.AppVersion .Values.image.tag) $s.tag) -}}
{{- end -}}
{{- else -}}
{{- include "mcp-recorder.image" . -}}
{{- end -}}
{{- end -}}

{{/* ------------------------------------------------------------------ security */}}

{{/* Pod-level: non-root 65532 (the image's user), RuntimeDefault seccomp. */}}
{{- define "mcp-recorder.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level: passes the "restricted" Pod Security Standard. */}}
{{- define "mcp-recorder.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* ------------------------------------------------------------------ certificates */}}

{{/* Whether the chart generates a CA (some component is in generate mode). */}}
{{- define "mcp-recorder.tls.generates" -}}
{{- if or (eq .Values.webhook.certificates.mode "generate") (and .Values.collector.enabled (eq .Values.collector.tls.mode "generate")) -}}true{{- end -}}
{{- end -}}

{{/* Whether the chart creates cert-manager objects. */}}
{{- define "mcp-recorder.tls.certManager" -}}
{{- if or (eq .Values.webhook.certificates.mode "certManager") (and .Values.collector.enabled (eq .Values.collector.tls.mode "certManager")) -}}true{{- end -}}
{{- end -}}

{{/* DNS names of a Service (dict "root" $ "name" NAME). */}}
{{- define "mcp-recorder.serviceDNSNames" -}}
{{- $ns := .root.Release.Namespace -}}
{{- list .name (printf "%s.%s" .name $ns) (printf "%s.%s.svc" .name $ns) (printf "%s.%s.svc.%s" .name $ns .root.Values.clusterDomain) | toJson -}}
{{- end -}}

{{/* The collector's names: its Service, plus localhost for `kubectl port-forward`. */}}
{{- define "mcp-recorder.collector.dnsNames" -}}
{{- $names := include "mcp-recorder.serviceDNSNames" (dict "root" . "name" (include "mcp-recorder.collector.fullname" .)) | fromJsonArray -}}
{{- append $names "localhost" | toJson -}}
{{- end -}}

{{/*
The generated certificate material, computed once per render and cached in .Values
(templates share it): {ca: {cert, key}, webhook: {cert, key}, collector: {cert, key}}, PEM.

Kept across upgrades: the CA comes from the Secret FULLNAME-ca when it exists (lookup),
and a serving certificate from its Secret when that Secret holds a certificate of the
same CA. `lookup` needs a cluster: `helm template`, `--dry-run=client` and GitOps tools
that render offline (Argo CD) get fresh material on every render (see the README).
*/}}
{{- define "mcp-recorder.tls.generated" -}}
{{- if not (hasKey .Values "_mcpRecorderGenerated") -}}
{{- $out := dict -}}
{{- if include "mcp-recorder.tls.generates" . -}}
{{- $ns := .Release.Namespace -}}
{{- $days := int .Values.tls.generate.validityDays -}}
{{- $caSecret := lookup "v1" "Secret" $ns (include "mcp-recorder.ca.secretName" .) | default dict -}}
{{- $caCert := dig "data" "tls.crt" "" $caSecret -}}
{{- $caKey := dig "data" "tls.key" "" $caSecret -}}
{{- $ca := dict -}}
{{- if and $caCert $caKey -}}
{{- $ca = buildCustomCert $caCert $caKey -}}
{{- else -}}
{{- $ca = genCA (printf "%s-ca" (include "mcp-recorder.fullname" .)) $days -}}
{{- end -}}
{{- $_ := set $out "ca" (dict "cert" $ca.Cert "key" $ca.Key) -}}
{{- $leaves := dict -}}
{{- if eq .Values.webhook.certificates.mode "generate" -}}
{{- $name := include "mcp-recorder.webhook.fullname" . -}}
{{- $_ := set $leaves "webhook" (dict "secret" (printf "%s-tls" $name) "cn" (printf "%s.%s.svc" $name $ns) "dns" (include "mcp-recorder.serviceDNSNames" (dict "root" . "name" $name) | fromJsonArray)) -}}
{{- end -}}
{{- if and .Values.collector.enabled (eq .Values.collector.tls.mode "generate") -}}
{{- $name := include "mcp-recorder.collector.fullname" . -}}
{{- $_ := set $leaves "collector" (dict "secret" (printf "%s-tls" $name) "cn" (printf "%s.%s.svc" $name $ns) "dns" (include "mcp-recorder.collector.dnsNames" . | fromJsonArray)) -}}
{{- end -}}
{{- range $component, $leaf := $leaves -}}
{{- $existing := lookup "v1" "Secret" $ns $leaf.secret | default dict -}}
{{- $cert := dig "data" "tls.crt" "" $existing -}}
{{- $key := dig "data" "tls.key" "" $existing -}}
{{- $issuer := dig "data" "ca.crt" "" $existing -}}
{{- if and $cert $key (eq $issuer (b64enc $ca.Cert)) -}}
{{- $_ := set $out $component (dict "cert" (b64dec $cert) "key" (b64dec $key)) -}}
{{- else -}}
{{- $ips := list -}}
{{- if eq $component "collector" -}}{{- $ips = list "127.0.0.1" -}}{{- end -}}
{{- $signed := genSignedCert $leaf.cn $ips $leaf.dns $days $ca -}}
{{- $_ := set $out $component (dict "cert" $signed.Cert "key" $signed.Key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Values "_mcpRecorderGenerated" $out -}}
{{- end -}}
{{- toJson (get .Values "_mcpRecorderGenerated") -}}
{{- end -}}

{{/* The webhook's serving-certificate Secret. */}}
{{- define "mcp-recorder.webhook.tlsSecretName" -}}
{{- if eq .Values.webhook.certificates.mode "secret" -}}
{{- .Values.webhook.certificates.secretName -}}
{{- else -}}
{{- include "mcp-recorder.webhook.fullname" . }}-tls
{{- end -}}
{{- end -}}

{{/* The collector's serving-certificate Secret. */}}
{{- define "mcp-recorder.collector.tlsSecretName" -}}
{{- if eq .Values.collector.tls.mode "secret" -}}
{{- .Values.collector.tls.secretName -}}
{{- else -}}
{{- include "mcp-recorder.collector.fullname" . }}-tls
{{- end -}}
{{- end -}}

{{/* caBundle of the webhook configuration, base64 (empty in certManager mode: injected). */}}
{{- define "mcp-recorder.webhook.caBundle" -}}
{{- $mode := .Values.webhook.certificates.mode -}}
{{- if eq $mode "generate" -}}
{{- (include "mcp-recorder.tls.generated" . | fromJson).ca.cert | b64enc -}}
{{- else if eq $mode "secret" -}}
{{- $bundle := .Values.webhook.certificates.caBundle | trim -}}
{{- if contains "-----BEGIN" $bundle -}}{{- printf "%s\n" $bundle | b64enc -}}{{- else -}}{{- $bundle -}}{{- end -}}
{{- end -}}
{{- end -}}

{{/* The volume holding the webhook's CA as ca.crt (for the helm test pod). */}}
{{- define "mcp-recorder.webhook.caVolumeSource" -}}
{{- if eq .Values.webhook.certificates.mode "secret" -}}
configMap:
  name: {{ include "mcp-recorder.webhook.fullname" . }}-ca
  items:
    - key: ca.crt
      path: ca.crt
{{- else -}}
secret:
  secretName: {{ include "mcp-recorder.webhook.tlsSecretName" . }}
  items:
    - key: ca.crt
      path: ca.crt
{{- end -}}
{{- end -}}

{{/* Where the collector's CA comes from, as a volume with the file ca.crt (only the CA is
     projected, never the collector's key). Empty when there is none to mount. */}}
{{- define "mcp-recorder.collectorCA.volumeSource" -}}
{{- if .Values.sidecar.collectorCA.pem -}}
configMap:
  name: {{ include "mcp-recorder.collector.fullname" . }}-ca
  items:
    - key: ca.crt
      path: ca.crt
{{- else if .Values.collector.enabled -}}
secret:
  secretName: {{ include "mcp-recorder.collector.tlsSecretName" . }}
  items:
    - key: {{ if eq .Values.collector.tls.mode "secret" }}{{ .Values.collector.tls.caKey }}{{ else }}ca.crt{{ end }}
      path: ca.crt
{{- end -}}
{{- end -}}

{{/* The collector's CA PEM when the chart knows it (for checksums), else empty. */}}
{{- define "mcp-recorder.collectorCA.pem" -}}
{{- if .Values.sidecar.collectorCA.pem -}}
{{- .Values.sidecar.collectorCA.pem -}}
{{- else if and .Values.collector.enabled (eq .Values.collector.tls.mode "generate") -}}
{{- (include "mcp-recorder.tls.generated" . | fromJson).ca.cert -}}
{{- end -}}
{{- end -}}

{{/* ------------------------------------------------------------------ collector */}}

{{- define "mcp-recorder.collectorURL" -}}
{{- if .Values.sidecar.collectorURL -}}
{{- .Values.sidecar.collectorURL -}}
{{- else -}}
{{- printf "https://%s.%s.svc:%d" (include "mcp-recorder.collector.fullname" .) .Release.Namespace (int .Values.collector.port) -}}
{{- end -}}
{{- end -}}

{{- define "mcp-recorder.collector.adminSecretName" -}}
{{- if .Values.collector.auth.adminToken.existingSecret -}}
{{- .Values.collector.auth.adminToken.existingSecret -}}
{{- else -}}
{{- include "mcp-recorder.collector.fullname" . }}-admin
{{- end -}}
{{- end -}}

{{/* The generated admin token, kept across upgrades (lookup), cached per render. */}}
{{- define "mcp-recorder.collector.adminToken" -}}
{{- if not (hasKey .Values "_mcpRecorderAdminToken") -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "mcp-recorder.collector.adminSecretName" .) | default dict -}}
{{- $token := dig "data" .Values.collector.auth.adminToken.secretKey "" $existing -}}
{{- $_ := set .Values "_mcpRecorderAdminToken" (ternary (b64dec $token) (randAlphaNum 48) (ne $token "")) -}}
{{- end -}}
{{- get .Values "_mcpRecorderAdminToken" -}}
{{- end -}}

{{/* The access config JSON (docs/api.md). */}}
{{- define "mcp-recorder.collector.accessConfig" -}}
{{- $groups := dict -}}
{{- range $group, $namespaces := .Values.collector.auth.access.groups -}}
{{- $_ := set $groups $group $namespaces -}}
{{- end -}}
{{- $approvers := dict -}}
{{- range $group, $namespaces := .Values.collector.auth.access.approverGroups -}}
{{- $_ := set $approvers $group $namespaces -}}
{{- end -}}
{{- dict "groups" $groups "admin_groups" (.Values.collector.auth.access.adminGroups | default list) "approver_groups" $approvers | toPrettyJson -}}
{{- end -}}

{{/* ------------------------------------------------------------------ webhook */}}

{{/* Namespaces never sent to the webhook. */}}
{{- define "mcp-recorder.excludedNamespaces" -}}
{{- concat (list "kube-system" "kube-public" "kube-node-lease" .Release.Namespace) .Values.webhook.excludeNamespaces | uniq | toJson -}}
{{- end -}}

{{/* Both webhooks' namespaceSelector: the exclusions by name (kubernetes.io/metadata.name,
     set by the API server on every namespace since 1.21), ANDed with webhook.namespaceSelector. */}}
{{- define "mcp-recorder.namespaceSelector" -}}
{{- $extra := .Values.webhook.namespaceSelector -}}
{{- with $extra.matchLabels }}
matchLabels:
  {{- toYaml . | nindent 2 }}
{{- end }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- include "mcp-recorder.excludedNamespaces" . | fromJsonArray | toYaml | nindent 6 }}
  {{- with $extra.matchExpressions }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Whether the webhook asks the API server its version and so needs its ServiceAccount
     token: unless told the version, it asks at start, for --native-sidecar auto (the
     default, and what a pod may ask for with the annotation mcp-recorder.io/native-sidecar). */}}
{{- define "mcp-recorder.webhook.needsToken" -}}
{{- if not .Values.sidecar.kubernetesVersion -}}true{{- end -}}
{{- end -}}

{{/* ------------------------------------------------------------------ checks */}}

{{- define "mcp-recorder.validate" -}}
{{- $w := .Values.webhook.certificates -}}
{{- if and (eq $w.mode "secret") (not $w.secretName) -}}
{{- fail "webhook.certificates.mode=secret needs webhook.certificates.secretName (a kubernetes.io/tls Secret in the release namespace)" -}}
{{- end -}}
{{- if and (eq $w.mode "secret") (not $w.caBundle) -}}
{{- fail "webhook.certificates.mode=secret needs webhook.certificates.caBundle (the PEM of the CA that signed the Secret's certificate)" -}}
{{- end -}}
{{- if and .Values.collector.enabled (eq .Values.collector.tls.mode "secret") (not .Values.collector.tls.secretName) -}}
{{- fail "collector.tls.mode=secret needs collector.tls.secretName (a Secret with tls.crt, tls.key and the CA under collector.tls.caKey)" -}}
{{- end -}}
{{- if and (not .Values.collector.enabled) (not .Values.sidecar.collectorURL) -}}
{{- fail "collector.enabled=false: set sidecar.collectorURL to the collector the sidecars ship to" -}}
{{- end -}}
{{- if and (eq .Values.sidecar.collectorCA.mode "inline") (not .Values.collector.enabled) (not .Values.sidecar.collectorCA.pem) -}}
{{- fail "sidecar.collectorCA.mode=inline without this chart's collector: give the collector's CA in sidecar.collectorCA.pem (or use mode configMap or system)" -}}
{{- end -}}
{{- if and .Values.collector.enabled (not .Values.collector.auth.adminToken.enabled) (not .Values.collector.auth.oidc.issuer) -}}
{{- fail "the collector needs a way to authenticate readers: set collector.auth.oidc.issuer and/or collector.auth.adminToken.enabled=true" -}}
{{- end -}}
{{- if and .Values.collector.auth.oidc.audience (not .Values.collector.auth.oidc.issuer) -}}
{{- fail "collector.auth.oidc.audience needs collector.auth.oidc.issuer" -}}
{{- end -}}
{{- end -}}
