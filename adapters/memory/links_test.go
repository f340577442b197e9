package memory

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lenticular/lenticular/modules/links"
	"github.com/lenticular/lenticular/modules/links/linkstest"
)

func TestLinksContract(t *testing.T) {
	t.Parallel()
	linkstest.Run(t, func(*testing.T) linkstest.Harness {
		p := NewProfiles()
		return linkstest.Harness{
			Repo:     NewLinks(),
			Profiles: p,
			NewUser: func(_ *testing.T, username, displayName string) uuid.UUID {
				id := uuid.Must(uuid.NewV7())
				p.Put(links.Profile{ID: id, Username: &username, DisplayName: displayName, CreatedAt: time.Now().UTC()})
				return id
			},
			DeleteUser: func(_ *testing.T, id uuid.UUID) { p.MarkDeleted(id) },
		}
	})
}
