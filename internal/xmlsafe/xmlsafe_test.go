package xmlsafe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/psykosocial/exchange/internal/xmlsafe"
)

func TestParse(t *testing.T) {
	lim := xmlsafe.Limits{MaxBytes: 2048, MaxDepth: 4, MaxElements: 20, MaxAttrs: 3, MaxText: 64}
	tests := []struct {
		name, in, rule, path string
		line                 int
	}{
		{"valid", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r:A xmlns:r=\"urn:x\" ID=\"a1\">\n  <r:B>1</r:B>\n  <r:B>2</r:B>\n</r:A>\n", "", "", 0},
		{"doctype", "<?xml version=\"1.0\"?>\n<!DOCTYPE A [<!ENTITY x \"y\">]>\n<A>&x;</A>", "xml.doctype", "", 2},
		{"undefined entity", "<A>&x;</A>", "xml.syntax", "/A", 1},
		{"processing instruction", "<A><?php echo 1 ?></A>", "xml.processing_instruction", "/A", 1},
		{"late XML declaration", "<A/><?xml version=\"1.0\"?>", "xml.processing_instruction", "", 1},
		{"non-UTF-8 encoding", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><A/>", "xml.encoding", "", 1},
		{"comment", "<A><!-- hi --></A>", "xml.comment", "/A", 1},
		{"duplicate attribute", "<A x=\"1\" x=\"2\"/>", "xml.duplicate_attribute", "/A", 1},
		{"duplicate attribute via prefixes", "<A xmlns:p=\"urn:x\" p:x=\"1\" p:x=\"2\"/>", "xml.duplicate_attribute", "/A", 1},
		{"undeclared prefix", "<p:A/>", "xml.namespace", "/A", 1},
		{"too deep", "<A><B><C><D><E/></D></C></B></A>", "xml.limit", "/A/B/C/D", 1},
		{"too many elements", "<A>" + strings.Repeat("<B/>", 20) + "</A>", "xml.limit", "/A", 1},
		{"too many attributes", "<A a=\"1\" b=\"2\" c=\"3\" d=\"4\"/>", "xml.limit", "/A", 1},
		{"long text", "<A>" + strings.Repeat("x", 65) + "</A>", "xml.limit", "/A", 1},
		{"too large", "<A>" + strings.Repeat("<B>x</B>", 300) + "</A>", "xml.limit", "", 0},
		{"two roots", "<A/><B/>", "xml.syntax", "", 1},
		{"text outside root", "<A/>junk", "xml.syntax", "", 1},
		{"mismatched end", "<A><B></A></B>", "xml.syntax", "/A/B", 1},
		{"unterminated", "<A><B>", "xml.syntax", "/A/B", 1},
		{"empty", "", "xml.syntax", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := xmlsafe.Parse([]byte(tc.in), lim)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				bs := d.Doc.Root().ChildElements()
				if got := xmlsafe.Path(bs[1]); got != "/A/B[2]" {
					t.Errorf("Path = %q", got)
				}
				if d.Line(bs[1]) != 4 || d.Line(d.Doc.Root()) != 2 {
					t.Errorf("lines = %d, %d; want 4, 2", d.Line(bs[1]), d.Line(d.Doc.Root()))
				}
				return
			}
			var xe *xmlsafe.Error
			if !errors.As(err, &xe) || d != nil {
				t.Fatalf("got %v, %v; want only *xmlsafe.Error", d, err)
			}
			if xe.Rule != tc.rule || xe.Path != tc.path || (tc.line > 0 && xe.Line != tc.line) {
				t.Fatalf("got %s at %q line %d (%s), want %s at %q line %d", xe.Rule, xe.Path, xe.Line, xe.Message, tc.rule, tc.path, tc.line)
			}
		})
	}
}

// FuzzParse: never panics; a refusal is an *Error with a rule; an accepted
// document has a root and every element has a line.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"<?xml version=\"1.0\"?><a:R xmlns:a=\"urn:x\" ID=\"i\"><a:B x=\"1\">t</a:B><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/></a:R>",
		"<!DOCTYPE a><a/>", "<a><![CDATA[x]]></a>", "<a>&amp;&#65;</a>", "<a b='1' b='2'/>",
	} {
		f.Add([]byte(s))
	}
	lim := xmlsafe.Limits{MaxBytes: 4096, MaxDepth: 8, MaxElements: 200}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := xmlsafe.Parse(data, lim)
		if err != nil {
			var xe *xmlsafe.Error
			if !errors.As(err, &xe) || xe.Rule == "" || d != nil {
				t.Fatalf("bad refusal: %#v, %v", err, d)
			}
			return
		}
		root := d.Doc.Root()
		if root == nil {
			t.Fatal("accepted a document without a root")
		}
		if d.Line(root) < 1 {
			t.Fatal("root has no line")
		}
		_ = xmlsafe.Path(root)
		sameAsEtree(t, data, d)
	})
}

// sameAsEtree checks that the tree Parse built serialises exactly as the
// tree etree's own parser builds: signatures are computed over it.
func sameAsEtree(t *testing.T, data []byte, d *xmlsafe.Document) {
	t.Helper()
	ref := etree.NewDocument()
	if err := ref.ReadFromBytes(data); err != nil {
		t.Fatalf("etree refuses what Parse accepted: %v", err)
	}
	want, _ := ref.WriteToString()
	got, _ := d.Doc.WriteToString()
	if got != want {
		t.Fatalf("tree differs from etree's:\n got %q\nwant %q", got, want)
	}
}

func TestTreeMatchesEtree(t *testing.T) {
	for _, in := range []string{
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r:A xmlns:r=\"urn:x\" xmlns=\"urn:d\" ID=\"a1\">\n  <r:B x=\"&lt;&amp;&quot;\">1 &amp; 2</r:B>\n  <C><![CDATA[<raw>]]></C>\n  <D>  </D><E/>tail\n</r:A>\n",
		"<a>&#x41;&#66;<b xml:lang=\"da\">æøå</b></a>",
	} {
		d, err := xmlsafe.Parse([]byte(in), xmlsafe.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		sameAsEtree(t, []byte(in), d)
	}
}
