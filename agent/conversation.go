package agent

import (
	"context"

	"github.com/assistkit/assist/tickets"
)

// Conversation is the person's side of the agent: the terminal's prompts or the app's windows,
// two implementations of the same exchange. It asks for the form, asks consent (Ask returns by
// the deadline of its ctx at the latest, and must take its question down then), and shows what
// the agent tells it: the code, the connection's state, the sessions, and at last why the agent
// stopped. The person's actions (withdraw, stop, view only) go to each Event's Controls.
type Conversation interface {
	// Form asks the person for the request, starting from what is known; the user name and
	// computer are the machine's and not for the person to change.
	Form(ctx context.Context, known tickets.Form) (tickets.Form, error)
	Consenter
	Show(Event)
}
