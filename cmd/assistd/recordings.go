package main

import (
	"github.com/assistkit/assist/helpdesk"
	"github.com/assistkit/assist/sshd"
)

// deskRecordings gives the help desk's connect screen the gateway's recordings.
type deskRecordings struct{ gw *sshd.Server }

func (d deskRecordings) RequestRecordings(code string) ([]helpdesk.Recording, error) {
	list, err := d.gw.Recordings(code)
	if err != nil {
		return nil, err
	}
	out := make([]helpdesk.Recording, len(list))
	for i, v := range list {
		out[i] = helpdesk.Recording{ID: v.ID, Technician: v.Technician, Started: v.Started, Duration: v.Duration, Bytes: v.Bytes, Status: v.Status}
	}
	return out, nil
}
