package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestFormatAndLevel(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, true, "warn").Info("hidden")
	New(&buf, true, "warn").Warn("shown", "k", 1)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("want exactly one JSON line, got %q: %v", buf.String(), err)
	}
	if line["msg"] != "shown" || line["k"] != float64(1) {
		t.Errorf("unexpected line %v", line)
	}
	buf.Reset()
	New(&buf, false, "info").Info("hello", "who", "dev")
	if !strings.Contains(buf.String(), "msg=hello who=dev") {
		t.Errorf("text format: %q", buf.String())
	}
}

func TestParseLevel(t *testing.T) {
	cases := map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo}
	for in, want := range cases {
		if got := ParseLevel(in); got != want {
			t.Errorf("ParseLevel(%q) = %v, want %v", in, got, want)
		}
	}
}

type ctxKey struct{}

func TestWithContextAddsRequestAttributes(t *testing.T) {
	var buf bytes.Buffer
	base := New(&buf, true, "info")
	log := slog.New(WithContext(base.Handler(), func(ctx context.Context) []slog.Attr {
		if id, ok := ctx.Value(ctxKey{}).(string); ok {
			return []slog.Attr{slog.String("request_id", id)}
		}
		return nil
	})).With("component", "auth")
	ctx := context.WithValue(context.Background(), ctxKey{}, "req-1")
	log.WarnContext(ctx, "security event", "event", "login_failed")
	log.Info("no context")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines: %q", buf.String())
	}
	var first, second map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if first["request_id"] != "req-1" || first["event"] != "login_failed" || first["component"] != "auth" {
		t.Errorf("first line %v", first)
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("second line must not carry a request id: %v", second)
	}
}

func TestWithContextKeepsExplicitAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(WithContext(New(&buf, true, "info").Handler(), func(context.Context) []slog.Attr {
		return []slog.Attr{slog.String("request_id", "req-1"), slog.String("user_id", "from-context")}
	}))
	log.WarnContext(context.Background(), "security event", "event", "login_failed", "user_id", "explicit")
	line := strings.TrimSpace(buf.String())
	if strings.Count(line, `"user_id"`) != 1 || !strings.Contains(line, `"user_id":"explicit"`) || !strings.Contains(line, `"request_id":"req-1"`) {
		t.Errorf("want one user_id (the record's) and the context's request_id: %s", line)
	}
}
