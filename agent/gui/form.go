package gui

import (
	"errors"

	"github.com/assistkit/assist/tickets"
)

// FieldErrors checks each field of f on its own against tickets.Form's Clean, the bounds the
// gateway itself applies, so the person sees every refused field at once and not only the first.
// Keys are Clean's field names ("full name", "email", "phone", "message").
func FieldErrors(f tickets.Form) map[string]string {
	errs := map[string]string{}
	check := func(one tickets.Form) {
		if one.FullName == "" {
			one.FullName = "x" // the required name is checked on its own below
		}
		var fe *tickets.FieldError
		if _, err := one.Clean(); errors.As(err, &fe) {
			errs[fe.Field] = fe.Reason
		}
	}
	check(tickets.Form{FullName: f.FullName})
	check(tickets.Form{Email: f.Email})
	check(tickets.Form{Phone: f.Phone})
	check(tickets.Form{Message: f.Message})
	if _, err := (tickets.Form{FullName: f.FullName}).Clean(); err != nil {
		var fe *tickets.FieldError
		if errors.As(err, &fe) {
			errs[fe.Field] = fe.Reason
		}
	}
	return errs
}
