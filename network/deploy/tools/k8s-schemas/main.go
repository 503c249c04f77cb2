// Command k8s-schemas writes one JSON schema per built-in Kubernetes kind into a directory, in
// the layout kubeconform reads with
//
//	-schema-location '<dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json'
//
// The schemas are derived here from the Go types of k8s.io/api (the types the API server
// decodes into), so manifests can be validated without a cluster and without downloading
// schemas: every field name and value type is checked, unknown fields are refused, and a field
// whose JSON tag has no omitempty is required.
//
//	k8s-schemas <dir>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
)

type schema = map[string]any

var (
	timeType     = reflect.TypeOf(metav1.Time{})
	microType    = reflect.TypeOf(metav1.MicroTime{})
	durationType = reflect.TypeOf(metav1.Duration{})
	quantityType = reflect.TypeOf(resource.Quantity{})
	intStrType   = reflect.TypeOf(intstr.IntOrString{})
	rawExtType   = reflect.TypeOf(runtime.RawExtension{})
	fieldsV1Type = reflect.TypeOf(metav1.FieldsV1{})
)

// typeSchema: the schema of one Go type; depth guards against recursive types (JSONSchemaProps).
func typeSchema(t reflect.Type, depth int) schema {
	if depth > 40 {
		return schema{}
	}
	switch t {
	case timeType, microType:
		return schema{"type": []string{"string", "null"}, "format": "date-time"}
	case durationType:
		return schema{"type": "string"}
	case quantityType:
		return schema{"type": []string{"string", "number"}}
	case intStrType:
		return schema{"type": []string{"string", "integer"}}
	case rawExtType, fieldsV1Type:
		return schema{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := typeSchema(t.Elem(), depth+1)
		return nullable(s)
	case reflect.String:
		return schema{"type": "string"}
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return schema{"type": []string{"string", "null"}}
		}
		return schema{"type": []string{"array", "null"}, "items": typeSchema(t.Elem(), depth+1)}
	case reflect.Map:
		return schema{"type": []string{"object", "null"}, "additionalProperties": typeSchema(t.Elem(), depth+1)}
	case reflect.Interface:
		return schema{}
	case reflect.Struct:
		props := schema{}
		required := []string{}
		addFields(t, props, &required, depth)
		s := schema{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			sort.Strings(required)
			s["required"] = required
		}
		return s
	}
	return schema{}
}

func nullable(s schema) schema {
	switch v := s["type"].(type) {
	case string:
		s["type"] = []string{v, "null"}
	case []string:
		for _, x := range v {
			if x == "null" {
				return s
			}
		}
		s["type"] = append(v, "null")
	}
	return s
}

// addFields: the JSON fields of a struct, with inlined (embedded or `,inline`) structs flattened.
func addFields(t reflect.Type, props schema, required *[]string, depth int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		name := parts[0]
		opts := parts[1:]
		inline := f.Anonymous && name == ""
		for _, o := range opts {
			if o == "inline" {
				inline = true
			}
		}
		if inline {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			addFields(ft, props, required, depth+1)
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := false
		for _, o := range opts {
			if o == "omitempty" || o == "omitzero" {
				omit = true
			}
		}
		props[name] = typeSchema(f.Type, depth+1)
		if !omit && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

// kindSuffix: kubeconform's file name suffix, -<group's first label>-<version> (core: -<version>).
func kindSuffix(group, version string) string {
	if group == "" {
		return "-" + version
	}
	return "-" + strings.Split(group, ".")[0] + "-" + version
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: k8s-schemas <dir>")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n := 0
	for gvk, t := range scheme.Scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || strings.HasSuffix(gvk.Kind, "List") || strings.HasSuffix(gvk.Kind, "Options") {
			continue
		}
		s := typeSchema(t, 0)
		props := s["properties"].(schema)
		apiVersion := gvk.Version
		if gvk.Group != "" {
			apiVersion = gvk.Group + "/" + gvk.Version
		}
		props["apiVersion"] = schema{"type": "string", "enum": []string{apiVersion}}
		props["kind"] = schema{"type": "string", "enum": []string{gvk.Kind}}
		s["required"] = []string{"apiVersion", "kind", "metadata"}
		s["$schema"] = "http://json-schema.org/draft-07/schema#"
		s["description"] = fmt.Sprintf("%s (%s), derived from the Go types of k8s.io/api", gvk.Kind, apiVersion)
		out, err := json.MarshalIndent(s, "", " ")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		file := filepath.Join(dir, strings.ToLower(gvk.Kind)+kindSuffix(gvk.Group, gvk.Version)+".json")
		if err := os.WriteFile(file, out, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n++
	}
	fmt.Printf("k8s-schemas: %d schemas in %s\n", n, dir)
}
