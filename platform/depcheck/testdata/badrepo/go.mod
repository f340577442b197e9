// A tiny module with the path of the real one, so that its packages fall
// under the dependency rule, and no external dependencies. It breaks the rule
// on purpose: platform/depcheck loads it and expects the violations.
module github.com/lenticular/lenticular

go 1.26
