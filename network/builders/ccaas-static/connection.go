package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"text/template"
)

// builderConfigEnv names the variable whose JSON object fills the templates of connection.json.
// The peer passes it to the builder when core.yaml lists it under propagateEnvironment (Fabric's
// default core.yaml does, for the ccaas_builder entry).
const builderConfigEnv = "CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"

// templatedFields are the string fields of connection.json that may be Go templates, as in
// Fabric's own ccaas builder: the chaincode server's address, the dial timeout and, when TLS is
// required, the three PEM fields. Other fields are copied unchanged.
var templatedFields = []string{"address", "dial_timeout", "root_cert", "client_key", "client_cert"}

var tlsOnlyFields = map[string]bool{"root_cert": true, "client_key": true, "client_cert": true}

// fillConnection returns connection.json with every templated field executed against the
// builder configuration (a JSON object, empty when the variable is unset). A placeholder whose
// key the configuration lacks is an error, never an empty string: a peer must not dial a
// half-filled address. The output is compact JSON with sorted keys.
func fillConnection(raw []byte, builderConfig string) ([]byte, error) {
	var conn map[string]json.RawMessage
	if err := json.Unmarshal(raw, &conn); err != nil {
		return nil, fmt.Errorf("connection.json is not a JSON object: %v", err)
	}
	var cfg map[string]interface{}
	if builderConfig != "" {
		if err := json.Unmarshal([]byte(builderConfig), &cfg); err != nil {
			return nil, fmt.Errorf("%s is not a JSON object: %v", builderConfigEnv, err)
		}
	}
	tls := false
	if v, ok := conn["tls_required"]; ok {
		if err := json.Unmarshal(v, &tls); err != nil {
			return nil, fmt.Errorf("connection.json: tls_required must be true or false")
		}
	}
	for _, field := range templatedFields {
		v, ok := conn[field]
		if !ok || (tlsOnlyFields[field] && !tls) {
			continue
		}
		var text string
		if err := json.Unmarshal(v, &text); err != nil {
			return nil, fmt.Errorf("connection.json: %s must be a string", field)
		}
		filled, err := execute(field, text, cfg)
		if err != nil {
			return nil, err
		}
		enc, err := marshalString(filled)
		if err != nil {
			return nil, err
		}
		conn[field] = enc
	}
	return marshalSorted(conn)
}

func execute(field, text string, cfg map[string]interface{}) (string, error) {
	t, err := template.New(field).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("connection.json %s: %v", field, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, cfg); err != nil {
		if cfg == nil {
			return "", fmt.Errorf("connection.json %s is a template but %s is not set: %v", field, builderConfigEnv, err)
		}
		return "", fmt.Errorf("connection.json %s: %v", field, err)
	}
	return out.String(), nil
}

// marshalString encodes s as a JSON string without HTML escaping (<, >, & stay as they are).
func marshalString(s string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func marshalSorted(m map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out bytes.Buffer
	out.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			out.WriteByte(',')
		}
		name, err := marshalString(k)
		if err != nil {
			return nil, err
		}
		out.Write(name)
		out.WriteByte(':')
		var compact bytes.Buffer
		if err := json.Compact(&compact, m[k]); err != nil {
			return nil, err
		}
		out.Write(compact.Bytes())
	}
	out.WriteString("}\n")
	return out.Bytes(), nil
}
