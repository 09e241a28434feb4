package commands

import (
	"errors"
	"strings"
)

// splitArgs splits a command line as a POSIX shell would for plain words, single and double
// quotes and backslash escapes; nothing is expanded.
func splitArgs(line string) ([]string, error) {
	if len(line) > 64<<10 {
		return nil, errors.New("command line too long")
	}
	var args []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, errors.New("unterminated quote or escape in command")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
