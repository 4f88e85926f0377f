package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the spec file at path. See Parse.
func Load(path string) (*Family, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a spec. name is the spec's file name or path; errors and
// positions use its base name, Family.Path keeps it as given.
//
// Parse checks the spec against the schema of its protocol (genetlink,
// genetlink-c or genetlink-legacy; others, such as netlink-raw, are
// rejected), then resolves it (see Family). If the spec is invalid, Parse
// returns a nil Family and an ErrorList holding every problem found; when
// the spec does not match the schema, reference errors are not reported
// until the schema errors are fixed.
func Parse(name string, data []byte) (*Family, error) {
	file := filepath.Base(name)
	root, errs := parseYAML(file, data)
	if errs != nil {
		return nil, errs
	}
	d := &decoder{file: file}
	f := d.family(root)
	if f == nil && len(d.errs) == 0 {
		d.errorf(d.pos(root), "invalid spec")
	}
	if f != nil && len(d.errs) == 0 {
		if err := d.overlaySpec(f); err != nil {
			return nil, err
		}
	}
	if len(d.errs) == 0 {
		d.resolve(f)
	}
	if len(d.errs) > 0 {
		return nil, sortErrors(d.errs)
	}
	if err := applyOverlay(f); err != nil {
		return nil, err
	}
	f.Path = name
	f.License = license(data)
	return f, nil
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data as a single YAML document and returns its root node.
func parseYAML(file string, data []byte) (*yaml.Node, ErrorList) {
	fail := func(line int, msg string) (*yaml.Node, ErrorList) {
		return nil, ErrorList{{File: file, Line: line, Col: 1, Msg: msg}}
	}
	yamlErr := func(err error) (*yaml.Node, ErrorList) {
		msg := err.Error()
		if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return fail(line, "invalid YAML: "+m[2])
		}
		return fail(0, "invalid YAML: "+strings.TrimPrefix(msg, "yaml: "))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decodeNode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(0, "empty spec")
		}
		return yamlErr(err)
	}
	var extra yaml.Node
	switch err := decodeNode(dec, &extra); {
	case err == nil:
		return fail(extra.Line, "spec must be a single YAML document")
	case !errors.Is(err, io.EOF):
		return yamlErr(err)
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 || doc.Content[0] == nil {
			return fail(0, "empty spec")
		}
		root = doc.Content[0]
	}
	if isScalar(root, "!!null") {
		return fail(root.Line, "empty spec")
	}
	return root, nil
}

// decodeNode decodes the next document, turning a panic of the YAML library
// into an error.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

const spdxPrefix = "# SPDX-License-Identifier:"

// license returns the SPDX license expression of the spec's first line.
func license(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	s := strings.TrimSpace(string(line))
	if !strings.HasPrefix(s, spdxPrefix) {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(s, spdxPrefix))
}

// header is the part of a spec read to find specs by name.
type header struct {
	Name     string `yaml:"name"`
	Protocol string `yaml:"protocol"`
}

// sniff reads the family name and protocol of a spec without validating it.
func sniff(data []byte) (h header, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	var raw struct {
		Name     any `yaml:"name"`
		Protocol any `yaml:"protocol"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return h, err
	}
	h.Name, _ = raw.Name.(string)
	h.Protocol, _ = raw.Protocol.(string)
	return h, nil
}

// specFiles returns the *.yaml files of dir, sorted.
func specFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// LoadDir loads every *.yaml spec in dir (not recursively) whose protocol is
// genetlink, genetlink-c or genetlink-legacy, skipping other protocols such
// as netlink-raw. The families are sorted by name. If some specs are
// invalid, LoadDir returns the valid ones and an ErrorList with the errors
// of all invalid ones; I/O errors are returned as they are.
func LoadDir(dir string) ([]*Family, error) {
	files, err := specFiles(dir)
	if err != nil {
		return nil, err
	}
	var fams []*Family
	var errs ErrorList
	byName := make(map[string]*Family)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if h, err := sniff(data); err == nil && strings.HasPrefix(h.Protocol, "netlink-") {
			continue // netlink-raw: not a generic netlink family
		}
		f, err := parseCollect(path, data, &errs)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		if prev := byName[f.Name]; prev != nil {
			errs = append(errs, &Error{File: filepath.Base(path), Line: f.KeyPos("name").Line, Col: f.KeyPos("name").Col,
				Msg: fmt.Sprintf("family %q is also defined in %s", f.Name, prev.Path)})
			continue
		}
		byName[f.Name] = f
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].Name < fams[j].Name })
	return fams, errs.Err()
}

// parseCollect parses a spec of a set being loaded: its spec errors join
// errs (and the Family is nil), other errors are returned.
func parseCollect(name string, data []byte, errs *ErrorList) (*Family, error) {
	f, err := Parse(name, data)
	if err != nil {
		var l ErrorList
		if errors.As(err, &l) {
			*errs = append(*errs, l...)
			return nil, nil
		}
		return nil, err
	}
	return f, nil
}

// Find loads the spec of a family from dir. name is either a family name
// (the spec's "name" key, e.g. "net-shaper", which lives in net_shaper.yaml)
// or a file base name with or without ".yaml" ("net_shaper"). Family names
// take precedence. A family dir has no spec for is looked up among the
// project's own specs (see Owned).
func Find(dir, name string) (*Family, error) {
	files, err := specFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if h, err := sniff(data); err == nil && h.Name == name {
			return Parse(path, data)
		}
	}
	base := strings.TrimSuffix(name, ".yaml")
	for _, path := range files {
		if strings.TrimSuffix(filepath.Base(path), ".yaml") == base {
			return Load(path)
		}
	}
	if f, err := findOwned(name); f != nil || err != nil {
		return f, err
	}
	return nil, fmt.Errorf("spec: no spec for family %q in %s", name, dir)
}
