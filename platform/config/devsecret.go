package config

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// devSecretFile keeps the development signing key across restarts, so a
// developer's tokens survive `go run` cycles without any setup.
const devSecretFile = "jwt_secret"

// EnsureJWTSecret fills in a development JWT_SECRET: read from DATA_DIR, or
// generated and stored there (mode 0600) on first start. Validate has already
// refused an empty secret in every other environment.
func (c *Config) EnsureJWTSecret() error {
	if c.JWTSecret != "" {
		return nil
	}
	path := filepath.Join(c.DataDir, devSecretFile)
	if b, err := os.ReadFile(path); err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) >= MinSecretBytes {
			c.JWTSecret = Secret(s)
			return nil
		}
	}
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("generate development JWT_SECRET: %w", err)
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("DATA_DIR: %w", err)
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return fmt.Errorf("store development JWT_SECRET: %w", err)
	}
	c.JWTSecret = Secret(s)
	return nil
}
