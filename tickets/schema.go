package tickets

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Every bucket and meta key of the bbolt file, in one place.
var (
	bucketMeta       = []byte("meta")
	bucketRequests   = []byte("requests")               // id → request
	bucketCodes      = []byte("request_codes")          // code → id
	bucketAgentKeys  = []byte("agent_keys")             // agent key fingerprint → id of its open request
	bucketUsers      = []byte("users")                  // name → user
	bucketCreds      = []byte("credentials")            // key fingerprint → credential
	bucketCredsByReq = []byte("credentials_by_request") // request id + "/" + fingerprint → nothing
	bucketEvents     = []byte("events")                 // big-endian seq → event

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
}

// schemaVersion is the version this build writes.
func schemaVersion() uint64 { return migrations[len(migrations)-1].version }

// migrate brings the file up to schemaVersion, refusing a file from a newer build.
func migrate(db *bolt.DB) error {
	var current uint64
	err := db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(keySchemaVersion); len(v) == 8 {
			current = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > schemaVersion() {
		return fmt.Errorf("store schema version %d is newer than this build's %d: upgrade assistd", current, schemaVersion())
	}
	for _, m := range migrations {
		if m.version <= current {
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
