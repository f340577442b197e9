// Package fake stands for any adapter.
package fake

// Name is something a module should never reach for.
const Name = "fake"
