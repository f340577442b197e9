// Package bad is a module that imports an adapter, which the rule forbids.
package bad

import (
	"strings"

	"github.com/lenticular/lenticular/adapters/fake"
)

// Shout returns the adapter's name in capitals.
func Shout() string { return strings.ToUpper(fake.Name) }
