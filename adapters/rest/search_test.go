package rest

import (
	"html"
	"testing"

	"github.com/lenticular/lenticular/modules/search"
)

func TestSnippetHTML(t *testing.T) {
	m, e := search.SnippetStart, search.SnippetStop
	cases := []struct{ name, in, want string }{
		{"plain", "How to tune", "How to tune"},
		{"match", "How to " + m + "tune" + e + " a guitar", "How to <mark>tune</mark> a guitar"},
		{"html in the title", `<script>alert("x")</script> & 'q'`, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;"},
		{"match inside markup", "<b>" + m + "tune" + e + "</b>", "&lt;b&gt;<mark>tune</mark>&lt;/b&gt;"},
		{"url", "A · https://x.example/?a=1&b=2", "A · https://x.example/?a=1&amp;b=2"},
		{"invalid utf-8", "bad \xff byte", "bad \uFFFD byte"},
		{"entity-looking text", "&amp; &lt;", "&amp;amp; &amp;lt;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := snippetHTML(tc.in); got != tc.want {
				t.Errorf("snippetHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	// Same escaping as html.EscapeString wherever there is no marker.
	for _, s := range []string{`<>&'"`, "plain", "a&b<c>d'e\"f"} {
		if got, want := snippetHTML(s), html.EscapeString(s); got != want {
			t.Errorf("snippetHTML(%q) = %q, html.EscapeString gives %q", s, got, want)
		}
	}
}
