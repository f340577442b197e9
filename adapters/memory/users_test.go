package memory

import (
	"testing"

	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/modules/users/userstest"
)

func TestUsersContract(t *testing.T) {
	t.Parallel()
	userstest.Run(t, func(*testing.T) users.Repository { return NewUsers() })
}
