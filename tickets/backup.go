package tickets

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole store to w: the file as one read transaction sees
// it, while writers go on. The copy is a bbolt file that OpenBolt opens as it is.
func (s *Bolt) Backup(w io.Writer) (n int64, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up store %s: %w", s.path, err)
	}
	return n, nil
}

// CheckFile opens the store file at path read-only with the audit key and checks it (see
// Check): a backup before it is kept or restored, or a stopped gateway's store.
func CheckFile(path string, auditKey []byte) (CheckReport, error) {
	s, err := OpenBolt(path, BoltOptions{AuditKey: auditKey, ReadOnly: true})
	if err != nil {
		return CheckReport{}, err
	}
	defer s.Close()
	return s.Check()
}
