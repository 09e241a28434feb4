package tickets

// Store keeps requests, accounts, credentials and the audit trail. The bbolt file is the default
// (OpenBolt); nothing outside this package sees a bbolt type, so another backend can stand beside it.
// Every write is durable when the method returns.
type Store interface {
	// CreateRequest stores a new request, assigning ID, Code, State and timestamps.
	CreateRequest(r Request) (Request, error)
	// Request finds a request by code (any spelling NormalizeCode accepts) or by ID.
	Request(codeOrID string) (Request, error)
	// OpenRequestByAgent finds the open request bound to an agent key fingerprint.
	OpenRequestByAgent(fingerprint string) (Request, error)
	// Requests lists requests newest first; closed ones only when all is true.
	Requests(all bool) ([]Request, error)
	// UpdateRequest changes a request in one transaction; an error from fn changes nothing.
	UpdateRequest(codeOrID string, fn func(*Request) error) (Request, error)

	AddUser(u User) error
	User(name string) (User, error)
	Users() ([]User, error)
	UpdateUser(name string, fn func(*User) error) (User, error)
	RemoveUser(name string) error

	AddCredential(c Credential) error
	// Credential finds a credential by its key fingerprint.
	Credential(fingerprint string) (Credential, error)
	CredentialsForRequest(requestID string) ([]Credential, error)
	UpdateCredential(fingerprint string, fn func(*Credential) error) (Credential, error)

	// AppendEvent adds an audit event at the end of the chain, filling Seq, Prev and Hash.
	AppendEvent(e Event) (Event, error)
	// Events lists audit events in order, filtered.
	Events(f EventFilter) ([]Event, error)
	// VerifyEvents walks the whole chain and returns a *TamperError at the first event that was
	// edited, removed or inserted.
	VerifyEvents() error

	Close() error
}
