{{/* Lower-case org key: the prefix of every object and of the Secrets network/deploy/org-secrets.sh writes. */}}
{{- define "mb.org" -}}{{ .Values.org.name | lower }}{{- end -}}

{{/* Labels of every pod, beside its selector labels (mb.selector). */}}
{{- define "mb.common" -}}
app.kubernetes.io/part-of: medbridge
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
medbridge.org/org: {{ include "mb.org" . }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "mb.labels" -}}
{{ include "mb.common" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "peer0") */}}
{{- define "mb.selector" -}}
app.kubernetes.io/name: {{ include "mb.org" .root }}-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* Public DNS name of a node of this org (in its TLS certificate): (dict "root" $ "node" "peer0") */}}
{{- define "mb.fqdn" -}}{{ .node }}.{{ .root.Values.org.domain }}{{- end -}}

{{/* The org's connection profile as the gateway processes see it inside their containers. */}}
{{- define "mb.profile" -}}
{{- $root := . -}}
{{- $peers := list -}}
{{- range .Values.peers -}}
{{- $peers = append $peers (dict "name" (include "mb.fqdn" (dict "root" $root "node" .name)) "endpoint" (printf "%s:%v" (include "mb.fqdn" (dict "root" $root "node" .name)) $root.Values.ports.peer) "tlsRootCert" "/var/medbridge/user/tls/ca.crt") -}}
{{- end -}}
{{- $profile := dict
  "network" .Values.network
  "org" .Values.org.name
  "mspId" .Values.org.mspId
  "channels" .Values.channels
  "chaincode" .Values.chaincode.name
  "host" (dict "address" "0.0.0.0" "name" .Values.org.domain)
  "peers" $peers
  "identities" (dict "user" (dict "certificate" "/var/medbridge/user/msp/cert.pem" "privateKey" "/var/medbridge/user/msp/key.pem"))
  "tls" (dict "caCert" "/var/medbridge/user/tls/ca.crt" "clientCert" "/var/medbridge/user/tls/tls.crt" "clientKey" "/var/medbridge/user/tls/tls.key")
-}}
{{- toPrettyJson $profile -}}
{{- end -}}

{{/* Volumes every gateway process mounts: the profiles and the org's user identity. */}}
{{- define "mb.gatewayVolumes" -}}
- name: profiles
  projected:
    sources:
      - configMap:
          name: {{ include "mb.org" . }}-profiles
- name: user-msp
  secret:
    secretName: {{ include "mb.org" . }}-user-msp
    defaultMode: 0400
- name: user-tls
  secret:
    secretName: {{ include "mb.org" . }}-user-tls
    defaultMode: 0400
{{- range .Values.extraProfileSecrets }}
- name: extra-{{ . }}
  secret:
    secretName: {{ . }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "mb.gatewayMounts" -}}
- name: profiles
  mountPath: /etc/medbridge/profiles
  readOnly: true
- name: user-msp
  mountPath: /var/medbridge/user/msp
  readOnly: true
- name: user-tls
  mountPath: /var/medbridge/user/tls
  readOnly: true
{{- range .Values.extraProfileSecrets }}
- name: extra-{{ . }}
  mountPath: /var/medbridge/extra/{{ . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "mb.gatewayEnv" -}}
- name: MEDBRIDGE_PROFILES
  value: /etc/medbridge/profiles
- name: MEDBRIDGE_DATA_DIR
  value: /var/medbridge/data
- name: MEDBRIDGE_LOG_LEVEL
  value: info
- name: NODE_ENV
  value: production
{{- end -}}

{{- define "mb.securityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
