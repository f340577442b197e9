package links

import "go.uber.org/fx"

// Module provides the links use cases; the composition root supplies the
// Repository and Profiles adapters.
var Module = fx.Module("links", fx.Provide(func(r Repository, p Profiles) *Service { return NewService(r, p) }))
