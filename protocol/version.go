package protocol

import (
	"fmt"
	"reflect"
	"strconv"

	"golang.org/x/crypto/ssh"
)

// The versions of the agent ↔ gateway messages. Version is what this build speaks; the gateway
// also speaks every older one down to MinVersion, and encodes what it sends an agent for the
// version that agent announced when it filed (the form carries it). An agent speaks its own
// version only: upgrade gateways first.
//
//	1  the first agents: ConsentAsk without a deadline.
//	2  ConsentAsk.TimeoutMillis.
//	3  ConsentAsk.Recorded.
//	4  the request form's Screen (tickets.Form): whether the agent can share the screen, and
//	   why not.
//	5  chat@assist.dev channels (ChatRef, ChatMsg frames): agents from 5 on serve chat.
//
// A message grows only at its end, by a field tagged `since:"N"` with N the new Version, and
// Marshal and Unmarshal leave that field out for an older peer. That is all a new field needs:
// TestVersionedFields checks the tags. A field whose absence matters to the person (a session
// that is recorded, say) also needs the gateway to decide what an older agent, which cannot be
// told, gets.
const (
	Version    = 5
	MinVersion = 1
)

// Marshal encodes msg, a struct or a pointer to one, as a peer speaking version v reads it:
// ssh.Marshal of the fields that version has.
func Marshal(msg any, v uint32) []byte {
	full := reflect.Indirect(reflect.ValueOf(msg))
	n := fieldsIn(full.Type(), v)
	if n == 0 { // ssh.Marshal cannot take a struct without fields
		return nil
	}
	part := reflect.New(prefixOf(full.Type(), n)).Elem()
	for i := range n {
		part.Field(i).Set(full.Field(i))
	}
	return ssh.Marshal(part.Interface())
}

// Unmarshal decodes data, encoded for version v, into msg, a pointer to a struct. Fields newer
// than v are left zero; anything after the fields v has is refused, as ssh.Unmarshal refuses it.
func Unmarshal(data []byte, msg any, v uint32) error {
	full := reflect.ValueOf(msg).Elem()
	n := fieldsIn(full.Type(), v)
	if n == 0 {
		if len(data) > 0 {
			return fmt.Errorf("protocol: %d bytes of a message that has no fields at version %d", len(data), v)
		}
		return nil
	}
	part := reflect.New(prefixOf(full.Type(), n))
	if err := ssh.Unmarshal(data, part.Interface()); err != nil {
		return err
	}
	for i := range n {
		full.Field(i).Set(part.Elem().Field(i))
	}
	return nil
}

// fieldsIn returns how many of t's leading fields version v has.
func fieldsIn(t reflect.Type, v uint32) int {
	for i := range t.NumField() {
		if since(t.Field(i)) > v {
			return i
		}
	}
	return t.NumField()
}

// since is the version that added f: its tag, or 1.
func since(f reflect.StructField) uint32 {
	s, ok := f.Tag.Lookup("since")
	if !ok {
		return 1
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		panic(fmt.Sprintf("protocol: field %s: since tag %q is not a version", f.Name, s))
	}
	return uint32(n)
}

// prefixOf is a struct type of t's first n fields, which ssh.Marshal encodes as it encodes those
// fields of t.
func prefixOf(t reflect.Type, n int) reflect.Type {
	if n == t.NumField() {
		return t
	}
	fields := make([]reflect.StructField, n)
	for i := range n {
		f := t.Field(i)
		fields[i] = reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag}
	}
	return reflect.StructOf(fields)
}
