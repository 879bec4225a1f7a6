package server

import (
	"reflect"
	"testing"
	"time"

	"interlude/server/servertest"
	"interlude/syncproto"
)

// pushNew pushes n new records from owner, each shared with every recipient (expiring
// at expires, or never if zero), and returns them in push order.
func pushNew(t *testing.T, owner *servertest.Client, n int, expires time.Time, recipients ...syncproto.AccountID) []syncproto.RecordPush {
	t.Helper()
	recs := make([]syncproto.RecordPush, n)
	for i := range recs {
		recs[i] = record()
		for _, to := range recipients {
			g := grant(recs[i], to)
			g.Expires = expires
			recs[i].Grants = append(recs[i].Grants, g)
		}
	}
	for _, r := range push(t, owner, &syncproto.Push{Records: recs}) {
		if r.Status != syncproto.StatusAccepted {
			t.Fatalf("push: %+v", r)
		}
	}
	return recs
}

// waitStored waits until the server holds n pages read ahead in all.
func waitStored(t *testing.T, e *env, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.readAhead.stored.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d pages read ahead, want %d", e.srv.readAhead.stored.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPullReadsAhead: a catch-up in pages is answered from pages read ahead, and what it
// returns is exactly what the store answers for the same cursors.
func TestPullReadsAhead(t *testing.T) {
	e := newEnv(t)
	owner, _, sess := e.signUp()
	pushNew(t, owner, 25, time.Time{})

	var cursor uint64
	pages := 0
	for {
		ch := call[syncproto.Changes](t, owner, &syncproto.Pull{Cursor: cursor, Limit: 10})
		want, err := e.store.Changes(e.ctx, sess.Account, cursor, 10, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ch.Items, want.Items) || ch.Cursor != want.Cursor || ch.More != want.More {
			t.Fatalf("page %d differs from the store's answer for cursor %d", pages+1, cursor)
		}
		pages++
		cursor = ch.Cursor
		if !ch.More {
			break
		}
	}
	if pages != 3 {
		t.Fatalf("%d pages, want 3", pages)
	}

	// A request for another page than the one read ahead gets the page it asked for.
	first := call[syncproto.Changes](t, owner, &syncproto.Pull{Limit: 10})
	waitStored(t, e, 3) // page 2 again
	again := call[syncproto.Changes](t, owner, &syncproto.Pull{Limit: 10})
	if !reflect.DeepEqual(again.Items, first.Items) {
		t.Fatal("asking for the first page again did not return it")
	}
	if got := e.srv.readAhead.served.Load(); got != 2 {
		t.Errorf("%d pages answered from read-ahead, want 2 (pages 2 and 3 of the first pass)", got)
	}
	if got := e.srv.readAhead.dropped.Load(); got != 1 {
		t.Errorf("%d pages read ahead dropped, want 1 (page 2, when page 1 was asked for again)", got)
	}
}

// TestReadAheadNotServedAfterRevoke: a revocation acknowledged after the next page was
// read ahead, but before the recipient asks for it, stops delivery: the recipient gets
// a fresh page without the revoked record's envelope.
func TestReadAheadNotServedAfterRevoke(t *testing.T) {
	e := newEnv(t)
	owner, _, _ := e.signUp()
	recipient, _, rsess := e.signUp()
	recs := pushNew(t, owner, 20, time.Time{}, rsess.Account)
	revoked := recs[15].Record

	first := call[syncproto.Changes](t, recipient, &syncproto.Pull{Limit: 10})
	if !first.More || len(first.Items) != 10 {
		t.Fatalf("first page: %d items, more %v", len(first.Items), first.More)
	}
	waitStored(t, e, 1) // page 2, which holds the record, is read ahead
	for _, r := range push(t, owner, &syncproto.Push{Revokes: []syncproto.Revoke{{Record: revoked, Recipient: rsess.Account}}}) {
		if r.Status != syncproto.StatusAccepted {
			t.Fatalf("revoke: %+v", r)
		}
	}

	var rest []syncproto.Change
	for cursor, more := first.Cursor, true; more; {
		ch := call[syncproto.Changes](t, recipient, &syncproto.Pull{Cursor: cursor, Limit: 10})
		rest = append(rest, ch.Items...)
		cursor, more = ch.Cursor, ch.More
	}
	for _, c := range rest {
		if c.Record == revoked && (c.State == syncproto.StateLive || len(c.Envelope) > 0 || len(c.Grants) > 0) {
			t.Fatalf("revoked record delivered after the revocation: state %v, %d envelope bytes, %d grants",
				c.State, len(c.Envelope), len(c.Grants))
		}
	}
	if last := rest[len(rest)-1]; last.Record != revoked || last.State != syncproto.StateGone {
		t.Fatalf("the feed does not end with the revocation: %v %v", last.Record, last.State)
	}
	// Page 2 read ahead before the revocation was dropped and read again (it now ends
	// with the revocation, so it is the last).
	if e.srv.readAhead.dropped.Load() != 1 || e.srv.readAhead.served.Load() != 0 {
		t.Errorf("read-ahead dropped %d, served %d; want 1 and 0",
			e.srv.readAhead.dropped.Load(), e.srv.readAhead.served.Load())
	}
}

// TestReadAheadNotServedAfterDeletion: deleting a record a former grantee's feed lists is
// a change to what it may see (StateGone becomes StateDeleted, with the statement), so a
// page read ahead before the deletion is not served.
func TestReadAheadNotServedAfterDeletion(t *testing.T) {
	e := newEnv(t)
	owner, _, _ := e.signUp()
	recipient, _, rsess := e.signUp()
	recs := pushNew(t, owner, 20, time.Time{}, rsess.Account)
	x := recs[15]
	push(t, owner, &syncproto.Push{Revokes: []syncproto.Revoke{{Record: x.Record, Recipient: rsess.Account}}})

	first := call[syncproto.Changes](t, recipient, &syncproto.Pull{Limit: 10})
	waitStored(t, e, 1) // page 2 ends with x, gone
	statement := servertest.RandomBytes(105)
	del := syncproto.RecordPush{Record: x.Record, BaseRevision: x.Revision, Revision: x.Revision + 1, Delete: true, Envelope: statement}
	if r := push(t, owner, &syncproto.Push{Records: []syncproto.RecordPush{del}}); r[0].Status != syncproto.StatusAccepted {
		t.Fatalf("delete: %+v", r[0])
	}

	second := call[syncproto.Changes](t, recipient, &syncproto.Pull{Cursor: first.Cursor, Limit: 10})
	last := second.Items[len(second.Items)-1]
	if last.Record != x.Record || last.State != syncproto.StateDeleted || string(last.Envelope) != string(statement) {
		t.Fatalf("page 2 ends with %v in state %v; want the deletion of %v with its statement", last.Record, last.State, x.Record)
	}
	if e.srv.readAhead.served.Load() != 0 || e.srv.readAhead.dropped.Load() != 1 {
		t.Errorf("read-ahead served %d, dropped %d; want 0 and 1", e.srv.readAhead.served.Load(), e.srv.readAhead.dropped.Load())
	}
}

// TestReadAheadNotServedAfterExpiry: a grant that expires between reading ahead and the
// request is not served from the page read ahead, even before the sweeper deletes it.
func TestReadAheadNotServedAfterExpiry(t *testing.T) {
	e := newEnv(t)
	owner, _, _ := e.signUp()
	recipient, _, rsess := e.signUp()
	pushNew(t, owner, 20, testStart.Add(time.Minute), rsess.Account)

	first := call[syncproto.Changes](t, recipient, &syncproto.Pull{Limit: 10})
	waitStored(t, e, 1)
	e.clock.Advance(time.Minute) // every grant has now expired (expiry at or before now)

	second := call[syncproto.Changes](t, recipient, &syncproto.Pull{Cursor: first.Cursor, Limit: 10}) // the page read ahead
	for _, c := range second.Items {
		if c.State != syncproto.StateGone || len(c.Envelope) > 0 || len(c.Grants) > 0 {
			t.Fatalf("record %v delivered after its grant expired: state %v", c.Record, c.State)
		}
	}
	if e.srv.readAhead.served.Load() != 0 {
		t.Errorf("a page with expired grants was served from read-ahead")
	}
}

// TestReadAheadBounded: a server whose read-ahead slots are all held does not read ahead
// (and still answers), and a connection that ends frees its slot.
func TestReadAheadBounded(t *testing.T) {
	e := newEnv(t)
	owner, id, _ := e.signUp()
	recs := pushNew(t, owner, 15, time.Time{})

	// A connection that stops after the first page holds a slot until it ends.
	other, _ := e.login(id)
	call[syncproto.Changes](t, other, &syncproto.Pull{Limit: 10})
	waitStored(t, e, 1)
	if got := len(e.srv.readAhead.slots); got != 1 {
		t.Fatalf("%d slots held, want 1", got)
	}
	other.Close()
	deadline := time.Now().Add(readAheadTTL / 2) // freed by the teardown, not by the TTL
	for len(e.srv.readAhead.slots) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's read-ahead slot was not freed")
		}
		time.Sleep(time.Millisecond)
	}

	// With every slot taken, nothing is read ahead and pages come from the store.
	for range maxReadAhead {
		e.srv.readAhead.slots <- struct{}{}
	}
	items, _ := pullAll(t, owner, 0)
	if len(items) != len(recs) {
		t.Fatalf("%d items, want %d", len(items), len(recs))
	}
	if got := e.srv.readAhead.stored.Load(); got != 1 {
		t.Errorf("%d pages read ahead in all, want 1 (none while the slots were full)", got)
	}
	for range maxReadAhead {
		<-e.srv.readAhead.slots
	}
}
