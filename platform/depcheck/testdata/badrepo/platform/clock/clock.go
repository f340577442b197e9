// Package clock is platform code that is clean on its own.
package clock

import "time"

// Now returns the current time in UTC.
func Now() time.Time { return time.Now().UTC() }
