// trellis-hcl2json: rewrites one Terraform configuration file (.tf, HCL native syntax) as the
// Terraform JSON syntax (.tf.json) that means the same, so trellis-cp's Terraform front-end reads
// one syntax only. Parsing is HashiCorp's own HCL (hclsyntax); nothing here parses HCL by hand.
//
//	trellis-hcl2json FILE.tf            writes JSON to stdout
//	trellis-hcl2json -name NAME         reads stdin, names it NAME in diagnostics
//
// The JSON follows Terraform's JSON syntax: a block is an object under its type, nested under its
// labels (resource "aws_appmesh_mesh" "main" {} -> {"resource": {"aws_appmesh_mesh": {"main":
// [{...}]}}}); a block's bodies are always a list of objects, in source order. An expression that
// is a literal becomes its JSON value; an object or tuple constructor becomes a JSON object or
// array of its items; anything else (references, function calls, conditionals, templates with
// interpolations) becomes its source text as a template: "${var.x}", "${var.prefix}-node". Literal
// strings that contain "${" or "%{" are escaped ("$${") as the JSON syntax requires.
//
// On a syntax error it prints HCL's diagnostics (FILE:LINE,COL-COL: summary; detail) to stderr
// and exits 1; on a usage or I/O error it exits 2.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func main() {
	name := flag.String("name", "", "file name for diagnostics when reading standard input")
	flag.Parse()
	var src []byte
	var err error
	fileName := *name
	switch {
	case flag.NArg() == 1:
		src, err = os.ReadFile(flag.Arg(0))
		if fileName == "" {
			fileName = flag.Arg(0)
		}
	case flag.NArg() == 0 && fileName != "":
		src, err = io.ReadAll(os.Stdin)
	default:
		fmt.Fprintln(os.Stderr, "usage: trellis-hcl2json FILE.tf | trellis-hcl2json -name NAME < FILE.tf")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "trellis-hcl2json: %v\n", err)
		os.Exit(2)
	}
	out, diags := convert(src, fileName)
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Severity != hcl.DiagError {
				continue
			}
			fmt.Fprintln(os.Stderr, formatDiagnostic(d))
		}
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

// formatDiagnostic is one line: "main.tf:3,7-8: Invalid expression; Expected the start of an
// expression, but found an invalid expression token."
func formatDiagnostic(d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil {
		r := d.Subject
		fmt.Fprintf(&b, "%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
		if r.End.Line == r.Start.Line && r.End.Column > r.Start.Column {
			fmt.Fprintf(&b, "-%d", r.End.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString("; ")
		b.WriteString(strings.ReplaceAll(d.Detail, "\n", " "))
	}
	return b.String()
}

func convert(src []byte, fileName string) ([]byte, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, fileName, hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		return nil, diags
	}
	c := converter{src: src}
	var out bytes.Buffer
	c.writeBody(&out, file.Body.(*hclsyntax.Body))
	out.WriteByte('\n')
	return out.Bytes(), nil
}

type converter struct {
	src []byte
}

// item is an attribute or a block, so both can be written in source order.
type item struct {
	start int
	attr  *hclsyntax.Attribute
	block *hclsyntax.Block
}

func (c *converter) writeBody(out *bytes.Buffer, body *hclsyntax.Body) {
	var items []item
	for _, a := range body.Attributes {
		items = append(items, item{start: a.SrcRange.Start.Byte, attr: a})
	}
	for _, b := range body.Blocks {
		items = append(items, item{start: b.TypeRange.Start.Byte, block: b})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].start < items[j].start })

	// Blocks of one type are gathered under one key at the first one's position; labels nest.
	type group struct {
		key      string
		attr     *hclsyntax.Attribute
		blockSet *labelTree
	}
	var groups []*group
	blockGroups := map[string]*group{}
	for _, it := range items {
		if it.attr != nil {
			groups = append(groups, &group{key: it.attr.Name, attr: it.attr})
			continue
		}
		g, ok := blockGroups[it.block.Type]
		if !ok {
			g = &group{key: it.block.Type, blockSet: &labelTree{}}
			blockGroups[it.block.Type] = g
			groups = append(groups, g)
		}
		g.blockSet.add(it.block.Labels, it.block.Body)
	}
	out.WriteByte('{')
	for i, g := range groups {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, g.key)
		out.WriteByte(':')
		if g.attr != nil {
			c.writeExpr(out, g.attr.Expr)
		} else {
			c.writeLabelTree(out, g.blockSet)
		}
	}
	out.WriteByte('}')
}

// labelTree holds the blocks of one type: bodies at the leaves, one level per label.
type labelTree struct {
	bodies   []*hclsyntax.Body
	order    []string
	children map[string]*labelTree
}

func (t *labelTree) add(labels []string, body *hclsyntax.Body) {
	if len(labels) == 0 {
		t.bodies = append(t.bodies, body)
		return
	}
	if t.children == nil {
		t.children = map[string]*labelTree{}
	}
	child, ok := t.children[labels[0]]
	if !ok {
		child = &labelTree{}
		t.children[labels[0]] = child
		t.order = append(t.order, labels[0])
	}
	child.add(labels[1:], body)
}

func (c *converter) writeLabelTree(out *bytes.Buffer, t *labelTree) {
	if t.children == nil {
		out.WriteByte('[')
		for i, body := range t.bodies {
			if i > 0 {
				out.WriteByte(',')
			}
			c.writeBody(out, body)
		}
		out.WriteByte(']')
		return
	}
	out.WriteByte('{')
	for i, label := range t.order {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, label)
		out.WriteByte(':')
		c.writeLabelTree(out, t.children[label])
	}
	out.WriteByte('}')
}

func (c *converter) source(r hcl.Range) string {
	return string(c.src[r.Start.Byte:r.End.Byte])
}

func (c *converter) writeExpr(out *bytes.Buffer, expr hclsyntax.Expression) {
	switch e := expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		out.WriteByte('{')
		for i, item := range e.Items {
			if i > 0 {
				out.WriteByte(',')
			}
			c.writeObjectKey(out, item.KeyExpr)
			out.WriteByte(':')
			c.writeExpr(out, item.ValueExpr)
		}
		out.WriteByte('}')
		return
	case *hclsyntax.TupleConsExpr:
		out.WriteByte('[')
		for i, item := range e.Exprs {
			if i > 0 {
				out.WriteByte(',')
			}
			c.writeExpr(out, item)
		}
		out.WriteByte(']')
		return
	case *hclsyntax.TemplateWrapExpr:
		// "${expr}" alone: Terraform's JSON syntax spells it the same way.
		writeString(out, "${"+c.source(e.Wrapped.Range())+"}")
		return
	case *hclsyntax.TemplateExpr:
		if !e.IsStringLiteral() {
			text := c.source(e.SrcRange)
			if strings.HasPrefix(text, "\"") && strings.HasSuffix(text, "\"") && len(text) >= 2 {
				// The template's own text between the quotes is what the JSON string holds, but
				// JSON needs its own escapes: decode HCL's escapes of the literal parts only.
				writeString(out, c.templateText(e))
			} else {
				writeString(out, "${"+text+"}") // a heredoc with interpolations
			}
			return
		}
	}
	if len(expr.Variables()) == 0 && !hasFunctionCall(expr) {
		value, diags := expr.Value(nil)
		if !diags.HasErrors() {
			if writeValue(out, value) {
				return
			}
		}
	}
	writeString(out, "${"+c.source(expr.Range())+"}")
}

// templateText rebuilds a quoted template as JSON-syntax template text: literal parts decoded
// (HCL escapes resolved, "${" re-escaped), interpolations as their source inside "${...}".
func (c *converter) templateText(e *hclsyntax.TemplateExpr) string {
	raw := c.source(e.SrcRange)
	if strings.Contains(raw, "%{") {
		// Directives (%{if}, %{for}) keep their own text: the quoted source with HCL's escapes
		// of quotes, backslashes and control characters decoded.
		replacer := strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n", `\t`, "\t", `\r`, "\r")
		return replacer.Replace(raw[1 : len(raw)-1])
	}
	var b strings.Builder
	for _, part := range e.Parts {
		if lit, ok := part.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
			b.WriteString(escapeTemplate(lit.Val.AsString()))
			continue
		}
		b.WriteString("${" + c.source(part.Range()) + "}")
	}
	return b.String()
}

func (c *converter) writeObjectKey(out *bytes.Buffer, key hclsyntax.Expression) {
	if wrap, ok := key.(*hclsyntax.ObjectConsKeyExpr); ok {
		if name := hcl.ExprAsKeyword(wrap.Wrapped); name != "" && !wrap.ForceNonLiteral {
			writeString(out, name)
			return
		}
		key = wrap.Wrapped
	}
	if len(key.Variables()) == 0 {
		if value, diags := key.Value(nil); !diags.HasErrors() && value.Type() == cty.String && value.IsKnown() && !value.IsNull() {
			writeString(out, escapeTemplate(value.AsString()))
			return
		}
	}
	writeString(out, "${"+c.source(key.Range())+"}")
}

func hasFunctionCall(expr hclsyntax.Expression) bool {
	found := false
	hclsyntax.VisitAll(expr, func(node hclsyntax.Node) hcl.Diagnostics {
		if _, ok := node.(*hclsyntax.FunctionCallExpr); ok {
			found = true
		}
		return nil
	})
	return found
}

// writeValue writes a known literal value; false for values JSON cannot hold as such.
func writeValue(out *bytes.Buffer, v cty.Value) bool {
	if v.IsNull() {
		out.WriteString("null")
		return true
	}
	if !v.IsKnown() {
		return false
	}
	t := v.Type()
	switch {
	case t == cty.String:
		writeString(out, escapeTemplate(v.AsString()))
	case t == cty.Number:
		out.WriteString(formatNumber(v.AsBigFloat()))
	case t == cty.Bool:
		if v.True() {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		out.WriteByte('[')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				out.WriteByte(',')
			}
			_, element := it.Element()
			if !writeValue(out, element) {
				return false
			}
		}
		out.WriteByte(']')
	case t.IsObjectType() || t.IsMapType():
		out.WriteByte('{')
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				out.WriteByte(',')
			}
			key, element := it.Element()
			writeString(out, escapeTemplate(key.AsString()))
			out.WriteByte(':')
			if !writeValue(out, element) {
				return false
			}
		}
		out.WriteByte('}')
	default:
		return false
	}
	return true
}

func formatNumber(f *big.Float) string {
	if f.IsInt() {
		i, _ := f.Int(nil)
		return i.String()
	}
	return f.Text('g', -1)
}

// escapeTemplate keeps a literal literal in the JSON syntax, where every string is a template.
func escapeTemplate(s string) string {
	s = strings.ReplaceAll(s, "${", "$${")
	return strings.ReplaceAll(s, "%{", "%%{")
}

func writeString(out *bytes.Buffer, s string) {
	encoded, _ := json.Marshal(s) // never fails for a string
	out.Write(encoded)
}
