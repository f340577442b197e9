package logging

import (
	"bytes"
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
