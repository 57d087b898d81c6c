// Package xmlsafe parses XML documents from other authorities defensively.
//
// Before any XML reaches etree, goxmldsig or an adapter, Parse reads it once
// as a token stream and refuses what a signed exchange document never needs
// and an attacker often uses: a DOCTYPE or any other directive (so no DTD
// and no entity definitions), processing instructions other than the XML
// declaration, a non-UTF-8 encoding, comments, duplicate attributes,
// undeclared namespace prefixes, nesting, element counts, attribute counts
// and text beyond fixed limits. Only then is the document built as an etree
// tree, with the source line of every element remembered so that adapters
// can name the line of a problem.
package xmlsafe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Limits bound one XML document. Zero fields take the defaults in brackets.
type Limits struct {
	// MaxBytes is the largest document accepted [1 MiB].
	MaxBytes int
	// MaxDepth is the deepest element nesting [16].
	MaxDepth int
	// MaxElements is the most elements in one document [50,000].
	MaxElements int
	// MaxAttrs is the most attributes (namespace declarations included) on one element [16].
	MaxAttrs int
	// MaxText is the longest text node or attribute value in bytes [16 KiB].
	MaxText int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = 1 << 20
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = 16
	}
	if l.MaxElements == 0 {
		l.MaxElements = 50_000
	}
	if l.MaxAttrs == 0 {
		l.MaxAttrs = 16
	}
	if l.MaxText == 0 {
		l.MaxText = 16 << 10
	}
	return l
}

// Error is a refusal of the document, with where it was seen.
type Error struct {
	// Path is the element path (/Root/Child[2]) where the problem was seen, "" for the prolog.
	Path string
	// Line is the 1-based source line, 0 when unknown.
	Line int
	// Rule is a stable machine-readable rule name such as "xml.doctype" or "xml.limit".
	Rule string
	// Message is a human sentence naming the problem.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(" ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "(line %d) ", e.Line)
	}
	b.WriteString(e.Message)
	return b.String()
}

// Document is a parsed, checked document.
type Document struct {
	// Doc is the etree document; its root is Doc.Root().
	Doc   *etree.Document
	lines map[*etree.Element]int
}

// Line is the source line where el starts, 0 when el was not parsed from the source.
func (d *Document) Line(el *etree.Element) int { return d.lines[el] }

// Path names el by local names from the root, with a 1-based position where
// siblings share a name: /Registration/Persons/Person[2]/CPR.
func Path(el *etree.Element) string {
	var parts []string
	for e := el; e != nil; e = e.Parent() {
		if e.Parent() == nil && e.Tag == "" {
			break // the document node
		}
		part := e.Tag
		if p := e.Parent(); p != nil {
			same, pos := 0, 0
			for _, s := range p.ChildElements() {
				if s.Tag == e.Tag {
					same++
					if s == e {
						pos = same
					}
				}
			}
			if same > 1 {
				part += "[" + strconv.Itoa(pos) + "]"
			}
		}
		parts = append(parts, part)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString("/")
		b.WriteString(parts[i])
	}
	return b.String()
}

var errNotUTF8 = errors.New("xmlsafe: not UTF-8")

// frame is an open element. Paths are built only for an error, from the
// stack: a document that parses allocates no path strings.
type frame struct {
	el       *etree.Element
	name     xml.Name
	prefixes []string       // namespace prefixes declared on this element
	pos      int            // 1-based position among same-named siblings so far
	counts   map[string]int // children seen by local name; nil until the first
}

// stackPath names the innermost open element: /Root/Child[2]/Leaf.
func stackPath(stack []frame) string {
	var b strings.Builder
	for _, f := range stack {
		b.WriteByte('/')
		b.WriteString(f.name.Local)
		if f.pos > 1 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.pos))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// Parse checks data against lim and the rules in the package comment and
// returns the document. The returned error is an *Error.
func Parse(data []byte, lim Limits) (*Document, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, &Error{Rule: "xml.limit", Message: fmt.Sprintf("document is %d bytes, the limit is %d", len(data), lim.MaxBytes)}
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.Entity = nil
	dec.CharsetReader = func(string, io.Reader) (io.Reader, error) { return nil, errNotUTF8 }
	doc := etree.NewDocument()
	d := &Document{Doc: doc, lines: make(map[*etree.Element]int, 64)}
	var (
		stack    []frame
		elements int
		seenRoot bool
		first    = true
	)
	fail := func(rule, format string, args ...any) error {
		e := &Error{Rule: rule, Message: fmt.Sprintf(format, args...)}
		e.Line, _ = dec.InputPos()
		e.Path = stackPath(stack)
		return e
	}
	for {
		line, _ := dec.InputPos()
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				e := fail("xml.syntax", "malformed XML: %s", se.Msg)
				e.(*Error).Line = se.Line
				return nil, e
			}
			if errors.Is(err, errNotUTF8) {
				return nil, fail("xml.encoding", "only UTF-8 documents are accepted")
			}
			return nil, fail("xml.syntax", "malformed XML")
		}
		isFirst := first
		first = false
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target != "xml" || !isFirst {
				return nil, fail("xml.processing_instruction", "processing instructions are not allowed")
			}
			if enc := declAttr(string(t.Inst), "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return nil, fail("xml.encoding", "only UTF-8 documents are accepted")
			}
			doc.CreateProcInst(t.Target, string(t.Inst))
		case xml.Directive:
			return nil, fail("xml.doctype", "DOCTYPE and other directives are not allowed (no DTDs, no entities)")
		case xml.Comment:
			return nil, fail("xml.comment", "comments are not allowed")
		case xml.CharData:
			if len(t) > lim.MaxText {
				return nil, fail("xml.limit", "text longer than %d bytes", lim.MaxText)
			}
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fail("xml.syntax", "text outside the root element")
			}
			parent := &doc.Element
			if len(stack) > 0 {
				parent = stack[len(stack)-1].el
			}
			// SetData marks white-space-only text as etree's own parser does.
			parent.CreateText("").SetData(string(t))
		case xml.StartElement:
			if len(stack) == 0 {
				if seenRoot {
					return nil, fail("xml.syntax", "more than one root element")
				}
				seenRoot = true
			}
			if len(stack) >= lim.MaxDepth {
				return nil, fail("xml.limit", "elements nested deeper than %d levels", lim.MaxDepth)
			}
			if elements >= lim.MaxElements {
				return nil, fail("xml.limit", "more than %d elements", lim.MaxElements)
			}
			f := frame{name: t.Name, pos: 1}
			parentEl := &doc.Element
			if len(stack) > 0 {
				parent := &stack[len(stack)-1]
				parentEl = parent.el
				if parent.counts == nil {
					parent.counts = make(map[string]int, 8)
				}
				parent.counts[t.Name.Local]++
				f.pos = parent.counts[t.Name.Local]
			}
			tag := t.Name.Local
			if t.Name.Space != "" {
				tag = t.Name.Space + ":" + tag
			}
			f.el = parentEl.CreateElement(tag)
			stack = append(stack, f)
			if len(t.Attr) > lim.MaxAttrs {
				return nil, fail("xml.limit", "element has more than %d attributes", lim.MaxAttrs)
			}
			for i, a := range t.Attr {
				for _, b := range t.Attr[:i] {
					if a.Name == b.Name {
						return nil, fail("xml.duplicate_attribute", "attribute %s appears more than once", qname(a.Name))
					}
				}
				if len(a.Value) > lim.MaxText {
					return nil, fail("xml.limit", "attribute %s longer than %d bytes", qname(a.Name), lim.MaxText)
				}
				if a.Name.Space == "xmlns" {
					top := &stack[len(stack)-1]
					top.prefixes = append(top.prefixes, a.Name.Local)
				}
				f.el.CreateAttr(qname(a.Name), a.Value)
			}
			if !declared(stack, t.Name.Space) {
				return nil, fail("xml.namespace", "namespace prefix %q is not declared", t.Name.Space)
			}
			for _, a := range t.Attr {
				if a.Name.Space != "" && a.Name.Space != "xmlns" && a.Name.Space != "xml" && !declared(stack, a.Name.Space) {
					return nil, fail("xml.namespace", "namespace prefix %q is not declared", a.Name.Space)
				}
			}
			d.lines[f.el] = line
			elements++
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name {
				return nil, fail("xml.syntax", "end tag %s does not match its start tag", qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return nil, fail("xml.syntax", "the document ends inside an element")
	}
	if !seenRoot {
		return nil, &Error{Rule: "xml.syntax", Message: "the document has no root element"}
	}
	return d, nil
}

func declared(stack []frame, prefix string) bool {
	if prefix == "" || prefix == "xml" {
		return true
	}
	for i := len(stack) - 1; i >= 0; i-- {
		if slices.Contains(stack[i].prefixes, prefix) {
			return true
		}
	}
	return false
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// declAttr reads a pseudo-attribute of the XML declaration.
func declAttr(inst, name string) string {
	i := strings.Index(inst, name)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(inst[i+len(name):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return ""
	}
	return rest[1 : 1+end]
}
