// Command ccaas is the chaincode-as-a-service external builder of the medbridge peer images, as
// one static binary (the images have no shell). It does what network/builders/ccaas/bin/* do for
// native peers and is installed three times, as detect, build and release; the name it is called
// by selects the step:
//
//	detect CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR   succeeds when metadata.json has type "ccaas"
//	build  CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR
//	       writes connection.json (required) with its templates filled from
//	       CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG (connection.go), copies META-INF (if present)
//	release BUILD_OUTPUT_DIR RELEASE_OUTPUT_DIR
//	       copies connection.json to chaincode/server/ and META-INF/statedb to statedb/
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "ccaas "+format+"\n", args...)
	os.Exit(1)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func isDir(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyTree copies the directory src to dst (created), regular files and directories only.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode().IsRegular():
			return copyFile(p, target, info.Mode())
		default:
			return nil
		}
	})
}

func detect(args []string) {
	if len(args) < 2 {
		fail("detect: usage: detect SOURCE_DIR METADATA_DIR")
	}
	raw, err := os.ReadFile(filepath.Join(args[1], "metadata.json"))
	if err != nil {
		os.Exit(1)
	}
	var meta struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &meta) != nil || !strings.EqualFold(meta.Type, "ccaas") {
		os.Exit(1)
	}
}

func build(args []string) {
	if len(args) < 3 {
		fail("build: usage: build SOURCE_DIR METADATA_DIR OUTPUT_DIR")
	}
	src, out := args[0], args[2]
	conn := filepath.Join(src, "connection.json")
	if !exists(conn) {
		fail("build: %s is missing from the package's code.tar.gz", conn)
	}
	raw, err := os.ReadFile(conn)
	if err != nil {
		fail("build: %v", err)
	}
	filled, err := fillConnection(raw, os.Getenv(builderConfigEnv))
	if err != nil {
		fail("build: %v", err)
	}
	if err := os.WriteFile(filepath.Join(out, "connection.json"), filled, 0o644); err != nil {
		fail("build: %v", err)
	}
	if isDir(filepath.Join(src, "META-INF")) {
		if err := copyTree(filepath.Join(src, "META-INF"), filepath.Join(out, "META-INF")); err != nil {
			fail("build: %v", err)
		}
	}
}

func release(args []string) {
	if len(args) < 2 {
		fail("release: usage: release BUILD_DIR RELEASE_DIR")
	}
	bld, rel := args[0], args[1]
	if conn := filepath.Join(bld, "connection.json"); exists(conn) {
		if err := copyFile(conn, filepath.Join(rel, "chaincode", "server", "connection.json"), 0o644); err != nil {
			fail("release: %v", err)
		}
	}
	if statedb := filepath.Join(bld, "META-INF", "statedb"); isDir(statedb) {
		if err := copyTree(statedb, filepath.Join(rel, "statedb")); err != nil {
			fail("release: %v", err)
		}
	}
}

func main() {
	step := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if step == "ccaas" && len(args) > 0 { // `ccaas detect ...` also works
		step, args = args[0], args[1:]
	}
	switch step {
	case "detect":
		detect(args)
	case "build":
		build(args)
	case "release":
		release(args)
	default:
		fail("%s: unknown step (detect, build or release)", step)
	}
}
