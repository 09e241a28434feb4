package tickets

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Every bucket and meta key of the bbolt file, in one place.
var (
	bucketMeta         = []byte("meta")
	bucketRequests     = []byte("requests")               // id → request
	bucketOpenRequests = []byte("open_requests")          // id of every open request → nothing
	bucketCodes        = []byte("request_codes")          // code → id
	bucketAgentKeys    = []byte("agent_keys")             // agent key fingerprint → id of its open request
	bucketUsers        = []byte("users")                  // name → user
	bucketCreds        = []byte("credentials")            // key fingerprint → credential
	bucketCredsByReq   = []byte("credentials_by_request") // request id + "/" + fingerprint → nothing
	bucketEvents       = []byte("events")                 // big-endian seq → event

	keySchemaVersion = []byte("schema_version")
	keyAuditHead     = []byte("audit_head") // big-endian seq ‖ hash of the last event
	keyAuditSeal     = []byte("audit_seal") // auditSeal of audit_head, so the head cannot be rewound without the key
)

// migration moves the file from version-1 to version. Migrations run in order, each in its own
// transaction, and are never edited once released: a change of schema is a new migration.
type migration struct {
	version uint64
	name    string
	apply   func(tx *bolt.Tx) error
}

var migrations = []migration{
	{1, "create buckets", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRequests, bucketCodes, bucketAgentKeys, bucketUsers, bucketCreds, bucketCredsByReq, bucketEvents} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	}},
	{2, "index open requests", func(tx *bolt.Tx) error {
		open, err := tx.CreateBucketIfNotExists(bucketOpenRequests)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketOpenRequests, err)
		}
		return tx.Bucket(bucketRequests).ForEach(func(k, v []byte) error {
			var r Request
			if err := decode(v, &r); err != nil {
				return nil // unreadable: not listed before either; assistd check names it
			}
			if r.Open() {
				return open.Put(k, nil)
			}
			return nil
		})
	}},
}

// schemaVersion is the version this build writes.
func schemaVersion() uint64 { return migrations[len(migrations)-1].version }

// SchemaError is a store whose schema this build does not know: another program's bbolt file,
// or one written by a newer assistd.
type SchemaError struct {
	Path    string
	Version uint64 // 0: no assist schema at all
}

func (e *SchemaError) Error() string {
	if e.Version == 0 {
		return fmt.Sprintf("store %s: not an assist store (no schema version)", e.Path)
	}
	return fmt.Sprintf("store %s: schema version %d is newer than this build's %d: upgrade assistd", e.Path, e.Version, schemaVersion())
}

// readSchema returns the file's schema version, refusing one this build cannot read.
func readSchema(tx *bolt.Tx, path string) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, &SchemaError{Path: path}
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 || binary.BigEndian.Uint64(v) == 0 {
		return 0, &SchemaError{Path: path}
	}
	if n := binary.BigEndian.Uint64(v); n > schemaVersion() {
		return 0, &SchemaError{Path: path, Version: n}
	}
	return binary.BigEndian.Uint64(v), nil
}

// migrate brings the file up to schemaVersion. A new file starts at version 0; an existing one
// must carry a version this build knows.
func migrate(db *bolt.DB, path string, existed bool) error {
	var current uint64
	err := db.Update(func(tx *bolt.Tx) error {
		if !existed {
			_, err := tx.CreateBucketIfNotExists(bucketMeta)
			return err
		}
		var err error
		current, err = readSchema(tx, path)
		return err
	})
	if err != nil {
		return err
	}
	return migrateFrom(db, current, schemaVersion())
}

// migrateFrom runs the migrations after version current up to and including target, each in
// its own transaction with the version it reaches.
func migrateFrom(db *bolt.DB, current, target uint64) error {
	for _, m := range migrations {
		if m.version <= current || m.version > target {
			continue
		}
		err := db.Update(func(tx *bolt.Tx) error {
			if err := m.apply(tx); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(m.version))
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
