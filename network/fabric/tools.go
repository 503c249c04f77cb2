//go:build tools

// Package fabric pins the Fabric binaries medbridge runs. Nothing here is compiled into a
// program: the imports make `go mod tidy` record every dependency of the six commands, so
// `go build` of them is reproducible from go.sum alone.
package fabric

import (
	_ "github.com/hyperledger/fabric/cmd/configtxgen"
	_ "github.com/hyperledger/fabric/cmd/configtxlator"
	_ "github.com/hyperledger/fabric/cmd/cryptogen"
	_ "github.com/hyperledger/fabric/cmd/orderer"
	_ "github.com/hyperledger/fabric/cmd/osnadmin"
	_ "github.com/hyperledger/fabric/cmd/peer"
)
