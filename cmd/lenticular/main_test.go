package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		exit     int
		stdout   string
		errMatch string
	}{
		{name: "version", args: []string{"version"}, stdout: "dev"},
		{name: "help", args: []string{"help"}, stdout: "migrate up|down|status"},
		{name: "unknown command", args: []string{"frobnicate"}, exit: 2, errMatch: `unknown command "frobnicate"`},
		{name: "migrate without action", args: []string{"migrate"}, env: map[string]string{"DATA_DIR": "TMP"}, exit: 2, errMatch: "usage: lenticular migrate"},
		{name: "migrate bad action", args: []string{"migrate", "sideways"}, env: map[string]string{"DATA_DIR": "TMP"}, exit: 1, errMatch: `unknown action "sideways"`},
		{name: "serve extra args", args: []string{"serve", "now"}, env: map[string]string{"DATA_DIR": "TMP"}, exit: 2, errMatch: "serve takes no arguments"},
		{name: "invalid setting stops start-up", args: []string{"serve"}, env: map[string]string{"APP_ENV": "production", "JWT_SECRET": ""}, exit: 1, errMatch: "JWT_SECRET: is required in production"},
		{name: "migrate status on fresh sqlite", args: []string{"migrate", "status"}, env: map[string]string{"DATA_DIR": "TMP"}, stdout: "pending"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				if v == "TMP" {
					v = t.TempDir()
				}
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			err := run(tc.args, &stdout, &stderr)
			code := 0
			if err != nil {
				code = exitCode(err)
			}
			if code != tc.exit {
				t.Fatalf("exit %d, want %d (err %v)", code, tc.exit, err)
			}
			if tc.stdout != "" && !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.stdout)
			}
			if tc.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMatch) {
					t.Errorf("error %v lacks %q", err, tc.errMatch)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error must be one line: %q", err)
				}
			}
		})
	}
}
