package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/mail"
	"strings"

	"github.com/lenticular/lenticular/modules/notify"
)

// Recipient is one valid, de-duplicated address of a batch.
type Recipient struct {
	Email string            // the bare address as written (no display name)
	Data  map[string]string // the row's other CSV columns, by header name
	Line  int
}

// InvalidLine is a line of a recipient file that holds no usable address.
type InvalidLine struct {
	Line  int
	Value string
}

// Recipients is a parsed recipient file.
type Recipients struct {
	List       []Recipient
	Duplicates int // addresses seen earlier in the file (case-insensitively)
	Invalid    []InvalidLine
}

// ParseRecipients reads a recipient file: either one address per line
// (blank lines and lines starting with # are skipped; "Name <addr>" is
// accepted), or CSV whose first row is a header with an "email" column, the
// other columns becoming template data for that recipient. An address is
// valid when net/mail parses it and its domain has a dot; duplicates are
// detected case-insensitively and skipped.
func ParseRecipients(content []byte) (*Recipients, error) {
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")) // UTF-8 BOM from spreadsheets
	r := &Recipients{}
	seen := make(map[string]bool)
	add := func(line int, value string, data map[string]string) {
		addr, norm, ok := parseAddress(value)
		switch {
		case !ok:
			r.Invalid = append(r.Invalid, InvalidLine{Line: line, Value: value})
		case seen[norm]:
			r.Duplicates++
		default:
			seen[norm] = true
			r.List = append(r.List, Recipient{Email: addr, Data: data, Line: line})
		}
	}
	if header, ok := csvHeader(content); ok {
		return r, parseCSV(content, header, add)
	}
	for i, line := range strings.Split(string(content), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		add(i+1, line, nil)
	}
	return r, nil
}

// csvHeader reports whether the first non-blank line is a CSV header with
// an "email" column, and returns its fields.
func csvHeader(content []byte) ([]string, bool) {
	for line := range strings.SplitSeq(string(content), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !strings.Contains(line, ",") && !strings.EqualFold(strings.TrimSpace(line), "email") {
			return nil, false
		}
		fields, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			return nil, false
		}
		for _, f := range fields {
			if strings.EqualFold(strings.TrimSpace(f), "email") {
				return fields, true
			}
		}
		return nil, false
	}
	return nil, false
}

func parseCSV(content []byte, header []string, add func(int, string, map[string]string)) error {
	cr := csv.NewReader(bytes.NewReader(content))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	if _, err := cr.Read(); err != nil { // the header, already parsed
		return fmt.Errorf("recipients: %w", err)
	}
	emailCol := -1
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
		if emailCol < 0 && strings.EqualFold(names[i], "email") {
			emailCol = i
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("recipients: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if emailCol >= len(rec) {
			add(line, strings.Join(rec, ","), nil)
			continue
		}
		var data map[string]string
		for i, v := range rec {
			if i == emailCol || i >= len(names) || names[i] == "" {
				continue
			}
			if data == nil {
				data = make(map[string]string, len(names)-1)
			}
			data[names[i]] = strings.TrimSpace(v)
		}
		add(line, strings.TrimSpace(rec[emailCol]), data)
	}
}

// parseAddress returns the bare address and its case-insensitive form, or
// ok false when s is not a deliverable-looking address.
func parseAddress(s string) (addr, norm string, ok bool) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", "", false
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 {
		return "", "", false
	}
	domain := a.Address[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", "", false
	}
	return a.Address, strings.ToLower(a.Address), true
}

// BatchID is the default id of a batch: derived from the recipient file and
// the template, so running the same batch again yields the same id.
func BatchID(content []byte, template string) string {
	h := sha256.New()
	h.Write([]byte(template))
	h.Write([]byte{0})
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// BatchKey is the idempotency key of one recipient of a batch.
func BatchKey(batchID, email string) string {
	return "batch:" + batchID + ":" + strings.ToLower(email)
}

// Batch is one templated email to many recipients.
type Batch struct {
	ID         string // required; see BatchID
	Template   string
	Data       map[string]string // for everyone; a recipient's own Data wins
	Recipients []Recipient
	// ChunkSize is how many jobs one transaction inserts (default 500).
	ChunkSize int
	// Progress, when set, is called after each chunk with the number of
	// recipients handled so far.
	Progress func(done, total int)
}

// BatchResult counts what EnqueueBatch did.
type BatchResult struct {
	Queued        int // new jobs
	AlreadyQueued int // recipients whose job an earlier run of the batch queued
}

// EnqueueBatch queues one send_email job per recipient, in chunks of one
// transaction each. Every job's Key is BatchKey(b.ID, address), so running
// the same batch again queues only what an interrupted run did not.
func (j *Jobs) EnqueueBatch(ctx context.Context, b Batch) (BatchResult, error) {
	var res BatchResult
	if b.ID == "" || b.Template == "" {
		return res, errors.New("batch: ID and Template are required")
	}
	size := b.ChunkSize
	if size <= 0 {
		size = 500
	}
	total := len(b.Recipients)
	for start := 0; start < total; start += size {
		chunk := b.Recipients[start:min(start+size, total)]
		emails := make([]notify.Email, len(chunk))
		for i, r := range chunk {
			data := maps.Clone(b.Data)
			if len(r.Data) > 0 {
				if data == nil {
					data = make(map[string]string, len(r.Data))
				}
				maps.Copy(data, r.Data)
			}
			emails[i] = notify.Email{To: r.Email, Template: b.Template, Data: data, Key: BatchKey(b.ID, r.Email)}
		}
		n, err := j.EnqueueMany(ctx, emails)
		if err != nil {
			return res, fmt.Errorf("batch: after %d of %d recipients: %w", start, total, err)
		}
		res.Queued += n
		res.AlreadyQueued += len(chunk) - n
		if b.Progress != nil {
			b.Progress(start+len(chunk), total)
		}
	}
	return res, nil
}
