package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/lenticular/lenticular/modules/users"
	"github.com/lenticular/lenticular/platform/app"
	"github.com/lenticular/lenticular/platform/config"
)

// stdin is where `admin create` reads the password (tests replace it).
var stdin io.Reader = os.Stdin

// runAdminCmd is `lenticular admin create --email E`, the password on
// standard input (one line; never a flag, which would land in the shell
// history and the process list).
func runAdminCmd(args []string, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer) error {
	const use = "usage: lenticular admin create --email E   (password on standard input)"
	if len(args) == 0 || args[0] != "create" {
		return usageError{use}
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the administrator's email address")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if fs.NArg() != 0 || *email == "" {
		return usageError{use}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return errors.New("no password on standard input")
	}
	u, err := app.CreateAdmin(context.Background(), cfg, log, *email, password)
	var fe *users.FieldError
	switch {
	case errors.As(err, &fe):
		return fmt.Errorf("%s refused: %s (%s)", fe.Field, fe.Message, fe.Code)
	case errors.Is(err, users.ErrEmailTaken):
		return fmt.Errorf("an account with email %s already exists", *email)
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "created admin %s (%s)\n", u.Email, u.ID)
	return nil
}
