package configref

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"genesissync/internal/config"
)

// Placeholder stands for a map key (a user, share or admin name) in key
// paths, e.g. shares.<name>.settle.
const Placeholder = "<name>"

// minimal is the smallest file that config.Parse accepts with one entry in
// each map, so that every default (share ones included) gets filled in.
var minimal = []byte(`
users:
  ` + sample + `:
    password: x
status:
  admins:
    ` + sample + `:
      password_hash: $2a$10$995Bj2wgH3j6Re8XV87gxenM3klwmHWwiMWs64vKwgPWU4P/liMaa
shares:
  ` + sample + `:
    path: /srv/genesissync/` + sample + `
    access: {` + sample + `: rw}
    target: {bucket: station}
`)

const sample = "sample"

// wordedDefaults are defaults that depend on the machine Parse runs on or
// on another key, said in words so that the reference is the same
// everywhere and true for every file.
var wordedDefaults = map[string]string{
	"alerts.name":                      "the host name",
	"appliance.name":                   "the host name's first label, lower-cased",
	"samba.run_dir":                    "`<state_dir>/samba`",
	"shares.<name>.snapshots.enabled":  "`true` with a `dataset`, else `false`",
	"shares.<name>.readiness.path_map": "with `playlists`, `\\\\<netbios_name>\\<share>\\` of every share",
	// An endpoint's keys left out take the target's value.
	"shares.<name>.target.endpoints[].region":            "the target's",
	"shares.<name>.target.endpoints[].path_style":        "the target's",
	"shares.<name>.target.endpoints[].access_key_id":     endpointCredentials,
	"shares.<name>.target.endpoints[].secret_access_key": endpointCredentials,
	"shares.<name>.target.endpoints[].credentials_file":  endpointCredentials,
	"shares.<name>.target.endpoints[].profile":           endpointCredentials,
}

// endpointCredentials is the default of an endpoint's credential keys.
const endpointCredentials = "the target's credentials, when the entry sets none"

// accessorDefaults are defaults that Parse leaves unset (nil) and an
// accessor applies, taken from the accessor itself so they cannot drift.
var accessorDefaults = map[string]string{
	"status.public":                          fmt.Sprintf("`%v`", (&config.Status{}).IsPublic()),
	"status.secure_cookie":                   fmt.Sprintf("`%v`", (&config.Status{}).IsSecureCookie()),
	"shares.<name>.adopt.backfill_metadata":  fmt.Sprintf("`%v`", config.AdoptPolicy{}.Backfill()),
	"shares.<name>.target.endpoints[].write": fmt.Sprintf("`%v`", config.Endpoint{}.Writable()),
}

// requiredKeys have no default: Parse rejects a file without them.
var requiredKeys = map[string]bool{
	"shares.<name>.path":          true,
	"shares.<name>.target.bucket": true,
	// Required in each entry of the list, which itself is optional.
	"shares.<name>.target.endpoints[].url": true,
}

// Generate returns docs/config.md for the config package whose Go files are
// in srcDir (internal/config).
func Generate(srcDir string) ([]byte, error) {
	docs, err := parseDocs(srcDir)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(minimal, nil)
	if err != nil {
		return nil, fmt.Errorf("parse the minimal config for defaults: %w", err)
	}
	g := &gen{docs: docs}
	g.walk(reflect.ValueOf(cfg).Elem(), "", "")
	if len(g.undocumented) > 0 {
		return nil, fmt.Errorf("keys without a doc comment on their field in %s: %s", srcDir, strings.Join(g.undocumented, ", "))
	}
	return g.render(), nil
}

// typeDocs are the doc comments of one struct type.
type typeDocs struct {
	doc    string            // the type's doc comment
	fields map[string]string // field name -> its doc (or line) comment
}

func parseDocs(dir string) (map[string]typeDocs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	out := map[string]typeDocs{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				td := typeDocs{fields: map[string]string{}}
				switch {
				case ts.Doc != nil:
					td.doc = ts.Doc.Text()
				case gd.Doc != nil:
					td.doc = gd.Doc.Text()
				}
				for _, fld := range st.Fields.List {
					text := ""
					if fld.Doc != nil {
						text = fld.Doc.Text()
					} else if fld.Comment != nil {
						text = fld.Comment.Text()
					}
					for _, n := range fld.Names {
						td.fields[n.Name] = text
					}
				}
				out[ts.Name.Name] = td
			}
		}
	}
	return out, nil
}

// section is one heading of the reference: a struct-valued key and the
// leaf keys directly under it.
type section struct {
	key  string // "" for the top level
	doc  string // Markdown
	rows []row
}

type row struct {
	key, typ, def, doc string
}

type gen struct {
	docs         map[string]typeDocs
	sections     []*section
	undocumented []string
}

// walk adds the section for the struct v (at key path key, reached through
// a field documented by fieldDoc) and recurses into struct-valued keys.
func (g *gen) walk(v reflect.Value, key, fieldDoc string) {
	t := v.Type()
	td := g.docs[t.Name()]
	doc := fieldDoc
	if td.doc != "" && (doc == "" || key == "") {
		doc = td.doc
	} else if td.doc != "" && !strings.Contains(doc, td.doc) {
		doc = strings.TrimSpace(doc) + "\n\n" + td.doc
	}
	sec := &section{key: key, doc: markdown(doc)}
	g.sections = append(g.sections, sec)
	var nested []func()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		k := join(key, tag)
		fdoc := td.fields[f.Name]
		fv := v.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() != reflect.Struct {
			// *bool, *int, *time.Duration: optional scalars.
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)):
			nested = append(nested, func() { g.walk(fv, k, fdoc) })
		case ft.Kind() == reflect.Map && elemStruct(ft.Elem()):
			elem := mapSample(fv)
			mk := join(k, Placeholder)
			nested = append(nested, func() { g.walk(elem, mk, fdoc) })
		case ft.Kind() == reflect.Slice && elemStruct(ft.Elem()):
			elem := reflect.New(ft.Elem()).Elem()
			nested = append(nested, func() { g.walk(elem, k+"[]", fdoc) })
		default:
			if strings.TrimSpace(fdoc) == "" {
				g.undocumented = append(g.undocumented, k+" ("+t.Name()+"."+f.Name+")")
			}
			sec.rows = append(sec.rows, row{key: k, typ: typeName(f.Type), def: g.defaultOf(k, fv), doc: oneLine(fdoc)})
		}
	}
	for _, n := range nested {
		n()
	}
}

func elemStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// mapSample is the minimal file's entry of a map of structs (dereferenced),
// or a zero element when the map is empty.
func mapSample(m reflect.Value) reflect.Value {
	et := m.Type().Elem()
	if e := m.MapIndex(reflect.ValueOf(sample)); e.IsValid() {
		if e.Kind() == reflect.Pointer {
			return e.Elem()
		}
		return e
	}
	if et.Kind() == reflect.Pointer {
		return reflect.New(et.Elem()).Elem()
	}
	return reflect.New(et).Elem()
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	secretType   = reflect.TypeOf(config.Secret(""))
	byteSizeType = reflect.TypeOf(config.ByteSize(0))
)

func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case durationType:
		return "duration"
	case secretType:
		return "secret"
	case byteSizeType:
		return "byte size"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		return "map of " + typeName(t.Elem())
	}
	return t.String()
}

// defaultOf words what Parse left in v for the minimal file: the default.
func (g *gen) defaultOf(key string, v reflect.Value) string {
	if d, ok := wordedDefaults[key]; ok {
		return d
	}
	if d, ok := accessorDefaults[key]; ok && v.Kind() == reflect.Pointer && v.IsNil() {
		return d
	}
	if requiredKeys[key] {
		return "required"
	}
	if v.Type() == secretType {
		return "—"
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "—"
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == durationType:
		return "`" + shortDuration(time.Duration(v.Int())) + "`"
	case v.Kind() == reflect.String && v.String() == "":
		return "—"
	case v.Kind() == reflect.Map && v.Len() == 0,
		v.Kind() == reflect.Slice && v.Len() == 0:
		return "—"
	case v.Kind() == reflect.Map:
		return "—"
	}
	return "`" + fmt.Sprint(v.Interface()) + "`"
}

// shortDuration is time.Duration.String without the trailing zero units
// ("10m", "720h", "1h30m").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func markdown(text string) string {
	var p comment.Parser
	var pr comment.Printer
	return strings.TrimSpace(string(pr.Markdown(p.Parse(text))))
}

func (g *gen) render() []byte {
	var b bytes.Buffer
	b.WriteString(`# Configuration reference

<!-- Generated from internal/config by internal/config/configref: do not
edit. Change the doc comments in internal/config and run
` + "`go tool task docs`" + `; go test fails while this file is stale. -->

Every key of ` + "`" + config.DefaultPath + "`" + `, with its type, its default
(what the daemon uses when the key is absent) and what it means. ` + "`<name>`" + `
stands for a user, share or admin name chosen in the file; ` + "`[]`" + ` marks a
list entry. Any key can be overridden from the environment:
` + "`GENESISSYNC_`" + ` and the key path in upper case with dots as underscores (e.g.
` + "`GENESISSYNC_SHARES_STUDIO_TARGET_SECRET_ACCESS_KEY`" + `). Durations are Go
durations (` + "`90s`, `10m`, `720h`" + `); byte sizes take ` + "`KiB`, `MiB`, `GiB`" + ` or
plain numbers. Check a file with ` + "`genesissync config check FILE`" + `; the annotated
example is ` + "`configs/genesissync.example.yaml`" + `.
`)
	for _, s := range g.sections {
		title := "Top level"
		if s.key != "" {
			title = "`" + s.key + "`"
		}
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		if s.doc != "" {
			b.WriteString(s.doc + "\n\n")
		}
		if len(s.rows) == 0 {
			continue
		}
		b.WriteString("| Key | Type | Default | Description |\n| --- | --- | --- | --- |\n")
		for _, r := range s.rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.key, r.typ, r.def, r.doc)
		}
	}
	return b.Bytes()
}
