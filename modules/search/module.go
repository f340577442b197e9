package search

import "go.uber.org/fx"

// Module provides the search use cases; the composition root supplies the
// LinkIndex, UserIndex and Links.
var Module = fx.Module("search", fx.Provide(NewService))
