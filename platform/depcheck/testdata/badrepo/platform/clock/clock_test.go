package clock_test

import (
	"testing"

	"github.com/lenticular/lenticular/modules/bad"
	"github.com/lenticular/lenticular/platform/clock"
)

// This external test imports a module, which platform may not do even in
// tests: the loader must read _test.go files for the check to see it.
func TestNow(t *testing.T) {
	if clock.Now().IsZero() || bad.Shout() == "" {
		t.Fatal("zero")
	}
}
