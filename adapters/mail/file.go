package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lenticular/lenticular/modules/notify"
)

var _ notify.Sender = (*FileSender)(nil)

// fileTimeLayout names files by UTC time with a fixed-width fraction, so the
// names sort in the order the messages were written.
const fileTimeLayout = "20060102T150405.000000000Z"

// FileSender is the file mailer (MAILER=file): it writes each message to its
// own RFC 5322 file in a directory, named like
// 20261126T221503.123456789Z-<message id>.eml, which any mail client opens.
// The bytes are the ones the SMTP sender would put on the wire (both build
// the message with go-mail).
//
// A file appears complete or not at all: it is written under a temporary
// name and renamed. Files are readable by the owner only; they hold live
// tokens.
type FileSender struct {
	dir string
	now func() time.Time // replaced in tests

	mu   sync.Mutex
	last time.Time
}

// NewFileSender returns a FileSender writing to dir, which it creates (mode
// 0750) if missing.
func NewFileSender(dir string) (*FileSender, error) {
	if dir == "" {
		return nil, errors.New("mail directory is empty")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create mail directory: %w", err)
	}
	return &FileSender{dir: dir, now: time.Now}, nil
}

// Send writes m to a new file.
func (s *FileSender) Send(ctx context.Context, m notify.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	at := s.stamp()
	msg, err := newMsg(m, at)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return fmt.Errorf("file mailer: build message: %w", err)
	}
	name := at.Format(fileTimeLayout) + "-" + fileID(m.ID) + ".eml"
	if err := writeAtomic(s.dir, name, buf.Bytes()); err != nil {
		return fmt.Errorf("file mailer: %w", err)
	}
	return nil
}

// stamp returns the time a message is written at, strictly later than the
// previous one, so names sort in sending order even when the clock is coarse
// or two messages share a nanosecond.
func (s *FileSender) stamp() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now().UTC().Round(0)
	if !t.After(s.last) {
		t = s.last.Add(time.Nanosecond)
	}
	s.last = t
	return t
}

// fileID is the part of a file name taken from the message ID: letters,
// digits, '_', '-' and single dots only (at most 64), or random hex when
// nothing usable is left.
func fileID(id string) string {
	b := make([]byte, 0, len(id))
	for i := 0; i < len(id) && len(b) < 64; i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || (c == '.' && len(b) > 0 && b[len(b)-1] != '.') {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		r := make([]byte, 8)
		_, _ = rand.Read(r)
		return hex.EncodeToString(r)
	}
	return string(b)
}

// writeAtomic writes data to dir/name through a temporary file in the same
// directory and a rename, so a reader never sees a partial file.
func writeAtomic(dir, name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, ".writing-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}
