package viewer

import "errors"

// openController opens the input channel. rdp's input client is not there yet; until it is,
// the page is view only and says why.
func openController(s *Session) (controller, error) {
	return nil, errors.New("this build of assist cannot send input yet")
}
