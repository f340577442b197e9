package app

import (
	"go.uber.org/fx"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/adapters/rest"
	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/modules/search"
)

// The links and search modules: GORM adapters bound to their ports, the use
// cases, and their HTTP routes.
var _ = feature(fx.Options(
	fx.Provide(
		fx.Annotate(gormdb.NewLinks, fx.As(new(links.Repository))),
		fx.Annotate(gormdb.NewProfiles, fx.As(new(links.Profiles))),
		gormdb.NewSearch,
		func(s *gormdb.Search) search.LinkIndex { return s },
		func(s *gormdb.Search) search.UserIndex { return s },
		func(s *links.Service) search.Links { return s },
		fx.Annotate(rest.NewLinkRoutes, fx.As(new(rest.Routes)), fx.ResultTags(`group:"routes"`)),
		fx.Annotate(rest.NewSearchRoutes, fx.As(new(rest.Routes)), fx.ResultTags(`group:"routes"`)),
	),
	links.Module,
	search.Module,
))
