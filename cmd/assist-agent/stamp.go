package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/tickets"
)

// ownStamp reads the stamp a help desk's /help page appended to this program: its gateway and
// host key. Nil when there is none; an error, and nothing else happens, when there is one that
// does not verify (docs/stamp.md).
func ownStamp() (*tickets.Stamp, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to read its stamp: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("read this program's stamp: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read this program's stamp: %w", err)
	}
	s, err := tickets.ReadStamp(f, st.Size())
	var se *tickets.StampError
	switch {
	case errors.Is(err, tickets.ErrNoStamp):
		return nil, nil
	case errors.As(err, &se):
		return nil, cli.WithHint(fmt.Errorf("this copy of assist-agent was changed after your help desk made it: %w", err),
			"download it again from your help desk's Get help page, and do not run this copy")
	case err != nil:
		return nil, err
	}
	return &s, nil
}
