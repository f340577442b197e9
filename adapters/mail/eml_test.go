package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/lenticular/lenticular/modules/notify"
)

// testMessage is a message with both parts, a non-ASCII subject and the kind
// of link the real templates carry.
func testMessage(id string) notify.Message {
	return notify.Message{
		From:    "Lenticular <no-reply@lenticular.example>",
		To:      "Ada Lovelace <ada@example.com>",
		Subject: "Confirm your email address ✓ café",
		Text:    "Hi Ada,\n\nOpen this link:\n\nhttps://app.example/verify-email?token=a%2Bb%2F\n\nA long line that must survive quoted-printable soft line breaks intact, because mail transports wrap lines longer than 76 characters.\n",
		HTML:    `<!DOCTYPE html><html><body><p>Hi Ada,</p><p><a href="https://app.example/verify-email?token=a%2Bb%2F">Confirm</a></p></body></html>`,
		ID:      id,
	}
}

// parsedEML is a message read back with the standard library only.
type parsedEML struct {
	Header  netmail.Header
	Subject string // decoded
	Text    string // decoded, line endings normalised to \n
	HTML    string
}

// parseEML reads an RFC 5322 message that must be multipart/alternative with
// exactly a text/plain and a text/html part, and checks the headers every
// message needs.
func parseEML(t *testing.T, raw []byte) parsedEML {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	p := parsedEML{Header: msg.Header}
	for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version"} {
		if msg.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if v := msg.Header.Get("Mime-Version"); v != "1.0" {
		t.Errorf("MIME-Version = %q", v)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Errorf("Subject: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		ct, ctParams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		if !strings.EqualFold(ctParams["charset"], "utf-8") {
			t.Errorf("part %s charset = %q", ct, ctParams["charset"])
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatalf("read %s part: %v", ct, err)
		}
		s := strings.ReplaceAll(string(body), "\r\n", "\n")
		switch ct {
		case "text/plain":
			p.Text = s
		case "text/html":
			p.HTML = s
		}
		types = append(types, ct)
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts = %v, want text/plain then text/html", types)
	}
	return p
}

// checkSameMessage compares a parsed message with the one that was sent.
func checkSameMessage(t *testing.T, got parsedEML, want notify.Message) {
	t.Helper()
	addr := func(h string) string {
		a, err := netmail.ParseAddress(got.Header.Get(h))
		if err != nil {
			t.Errorf("%s: %v", h, err)
			return ""
		}
		return a.String()
	}
	wantAddr := func(s string) string { a, _ := netmail.ParseAddress(s); return a.String() }
	if addr("From") != wantAddr(want.From) {
		t.Errorf("From = %q, want %q", got.Header.Get("From"), want.From)
	}
	if addr("To") != wantAddr(want.To) {
		t.Errorf("To = %q, want %q", got.Header.Get("To"), want.To)
	}
	if got.Subject != want.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	}
	if want.ID != "" {
		if mid := got.Header.Get("Message-Id"); mid != "<"+want.ID+"@lenticular.example>" {
			t.Errorf("Message-ID = %q, want <%s@lenticular.example>", mid, want.ID)
		}
	}
	if strings.TrimRight(got.Text, "\n") != strings.TrimRight(want.Text, "\n") {
		t.Errorf("text part = %q\nwant %q", got.Text, want.Text)
	}
	if strings.TrimRight(got.HTML, "\n") != strings.TrimRight(want.HTML, "\n") {
		t.Errorf("HTML part = %q\nwant %q", got.HTML, want.HTML)
	}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, from, want string }{
		{"job-42", "A <a@lenticular.example>", "job-42@lenticular.example"},
		{"job 42 <x>@y", "a@lenticular.example", "job42xy@lenticular.example"},
		{"", "a@lenticular.example", ""},
		{"  ", "a@lenticular.example", ""},
		{"id", "not an address", "id@localhost"},
	}
	for _, tt := range tests {
		if got := messageID(notify.Message{ID: tt.id, From: tt.from}); got != tt.want {
			t.Errorf("messageID(%q, %q) = %q, want %q", tt.id, tt.from, got, tt.want)
		}
	}
}

func TestNewMsgRejectsBadAddresses(t *testing.T) {
	t.Parallel()
	for _, m := range []notify.Message{
		{From: "nobody", To: "a@example.com", Text: "x"},
		{From: "a@example.com", To: "not an address", Text: "x"},
		{From: "a@example.com", To: "a@example.com"},
	} {
		_, err := newMsg(m, time.Now())
		if !isPermanent(err) {
			t.Errorf("newMsg(%+v) err = %v, want a permanent error", m, err)
		}
	}
}
