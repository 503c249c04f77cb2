//go:build tools

// Package tools pins the deployment checkers medbridge builds (network/deploy/check.sh): helm and
// kubeconform. Nothing here is compiled into a program; the imports make `go mod tidy` record
// every dependency of both commands, so their build is reproducible from go.sum alone.
package tools

import (
	_ "github.com/yannh/kubeconform/cmd/kubeconform"
	_ "helm.sh/helm/v3/cmd/helm"
)
