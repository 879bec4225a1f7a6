package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/jmoiron/sqlx"

	"interlude/syncproto"
)

// TestPairingInterleavings is a randomized, model-based test of pairing between a
// clinician and a client who each use two devices (docs/sharing.md, "Contacts on every
// device of an account"). For each seed it builds one real server (WebSocket, SQLite)
// and four devices whose clocks are skewed per account (and jittered per device), runs
// a list of operations drawn from the seed — pair (a fresh code typed in), make a code,
// type in an earlier code again, remove (either side), rename, share an entry, sync one
// device, let time pass, make one clock jump — syncs every device until nothing moves,
// and checks, in this order (the first that breaks is reported):
//
//	inv1  the two devices of each account agree (paired or not, which pairing, the
//	      name); no device is still waiting for an answer
//	inv2  the accounts agree: the client is paired with the clinician exactly when the
//	      clinician is paired with the client; and (inv2b), when every clock agreed
//	      throughout, through the same pairing (link request). With skewed clocks the docs
//	      allow two pairings close in time to be ordered wrongly ("Known limit"), so which
//	      one each side keeps is not asserted then.
//	inv3  nothing the client shared keeps a grant on the server to a clinician the
//	      client's account is not paired with, and no clinician device keeps copies of
//	      what the client shared once the clinician's account is not paired with them
//	inv5  the last rename holds: when the last rename on an account's devices renamed the
//	      pairing that holds at the end and nothing about the pairing happened after it,
//	      both devices of the account show that name (not asserted when a rename on the
//	      other device had not reached the server before the renaming device last synced:
//	      two renames made offline are ordered by the server)
//	inv4b within one pairing an ending is final: no device ends up paired through a link
//	      request that a client device's removal ended (the request was live there when it
//	      removed the clinician), whatever the times
//	inv4  the newest event decides: after a removal that is the last event, nobody is
//	      paired; after an acceptance that is the last event, of an attempt begun once
//	      every removal before it had reached the server (or was made on the attempting
//	      device), both accounts are paired through it. Asserted only where the docs
//	      promise it: every other event more than the clocks' disagreement (plus 5 s)
//	      away ("Known limit" in docs/sharing.md), and no removal made on another device
//	      while the attempt waited (whether it covers the attempt depends on whether the
//	      attempting device learns of it before the answer). An acceptance of a request
//	      that a removal ended (the removal's device held the request live) does not
//	      count as an event ("an acceptance of that request arriving later does not
//	      undo it").
//	inv1c every device's paired or ended contact is what the account's contact document
//	      (as that device holds it) says: the state, the pairing, the name
//
// Besides, every operation checks its own outcome: a share succeeds exactly when the
// sharing device lists the clinician as paired, a removal or rename fails only with
// ErrNoContact, and a sync reports no refusal, digest mismatch or conflict.
//
// The operations, the clocks and every random byte (testing/cryptotest) depend only on
// the seed, so a seed replays the same run; on a failure the test shrinks the list
// (shortest failing prefix, then dropping operations one by one) and prints the seed, the
// minimal operation log with every device's contact after each step, and the invariant
// that broke.
//
// Environment:
//
//	INTERLUDE_MODEL_SEEDS=500   run seeds 1..500 (default: a short list, see pairingModelSeeds)
//	INTERLUDE_MODEL_KNOWN=all   also run every known failure (=rep: one or two per mechanism);
//	                            by default none runs, so that go test ./... stays green while
//	                            they are open defects (docs/sharing.md, "Known defects")
//	INTERLUDE_MODEL_SEED=42     run that seed only (a comma-separated list works too)
//	INTERLUDE_MODEL_STEPS=40    operations per seed (default 30)
//	INTERLUDE_MODEL_SHRINK=0    do not shrink a failure (default: shrink, within 3 minutes)
//	INTERLUDE_MODEL_VERBOSE=1   log every seed's operations (and every final sync), also when it passes
//	INTERLUDE_MODEL_KEEP=1,4,9  run only those operations of the seed (a failure prints its minimal list)
//	INTERLUDE_MODEL_RANDOM=1    real randomness instead of the seed's (record IDs, which break
//	                            ties between events of the same second, differ from run to run)
//	INTERLUDE_MODEL_STRICT=1    also expect an acceptance that is the last event to hold
//	                            when a removal made before the attempt began had not reached
//	                            the server yet (not promised by the docs: exploratory)
func TestPairingInterleavings(t *testing.T) {
	cfg := pmConfigFromEnv(t)
	if testing.Short() && os.Getenv("INTERLUDE_MODEL_SEEDS") == "" && os.Getenv("INTERLUDE_MODEL_SEED") == "" {
		cfg.seeds = cfg.seeds[:min(len(cfg.seeds), 3)]
	}
	if cfg.known == "all" || cfg.known == "rep" {
		for _, kf := range pmKnownFailures {
			if !kf.rep && cfg.known != "all" {
				continue
			}
			t.Run(fmt.Sprintf("known=%d", kf.seed), func(t *testing.T) {
				keep := map[int]bool{}
				for _, f := range strings.Split(kf.keep, ",") {
					n, _ := strconv.Atoi(f)
					keep[n] = true
				}
				var ops []pmOp
				for _, op := range pmGenOps(kf.seed, 30) {
					if keep[op.idx] {
						ops = append(ops, op)
					}
				}
				sc := pmScenarioFor(kf.seed)
				res := pmRun(t, sc, ops, cfg)
				if res.fail != nil {
					t.Errorf("known failure (mechanism %s), seed %d: %s broke: %s\nclocks: %s\noperation log:\n%s",
						kf.class, kf.seed, res.fail.inv, res.fail.detail, sc, strings.Join(res.log, "\n"))
				}
			})
		}
	}
	for _, seed := range cfg.seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			sc := pmScenarioFor(seed)
			ops := pmGenOps(seed, cfg.steps)
			if cfg.keep != nil {
				var kept []pmOp
				for _, op := range ops {
					if cfg.keep[op.idx] {
						kept = append(kept, op)
					}
				}
				ops = kept
			}
			res := pmRun(t, sc, ops, cfg)
			if res.fail == nil {
				if cfg.verbose {
					t.Logf("clocks: %s\n%s", sc, strings.Join(res.log, "\n"))
				}
				return
			}
			first := res
			minimal := ops
			if cfg.shrink {
				minimal, res = pmShrink(t, sc, ops, res, cfg)
			}
			t.Errorf("seed %d: %s broke: %s\n"+
				"replay: INTERLUDE_MODEL_SEED=%d INTERLUDE_MODEL_STEPS=%d go test ./client -run 'TestPairingInterleavings/seed=%d$' -v\n"+
				"minimal: INTERLUDE_MODEL_SEED=%d INTERLUDE_MODEL_STEPS=%d INTERLUDE_MODEL_KEEP=%s INTERLUDE_MODEL_SHRINK=0 INTERLUDE_MODEL_VERBOSE=1 go test ./client -run 'TestPairingInterleavings/seed=%d$' -v\n"+
				"clocks: %s\n"+
				"minimal operation log (%d of %d operations):\n%s\n%s",
				seed, res.fail.inv, res.fail.detail, seed, cfg.steps, seed, seed, cfg.steps, pmKept(minimal), seed, sc, len(minimal), len(ops),
				strings.Join(res.log, "\n"), pmFullLog(first, ops, minimal))
		})
	}
}

// pairingModelSeeds run by default (go test ./...): a short list of seeds that pass,
// which keeps the test within seconds, and the seeds that found defects since fixed
// (regressions: 6, 79, 111, 154 and 223, a device waiting on a request another device
// answered, requestDeleted; 15, an ending that deleted a newer open request; 106, an
// attempt ended elsewhere without telling of the other open requests). Failures found by
// longer runs go to pmKnownFailures (shrunk).
var pairingModelSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 15, 79, 106, 111, 154, 223}

// pmKnownFailures are the failures of INTERLUDE_MODEL_SEEDS=500 (30 operations a seed)
// against commit db427d9, each shrunk to the operations kept (positions in
// pmGenOps(seed, 30): a change to pmGenOps or pmScenarioFor invalidates them). They are
// defects of the client, not of the test; until fixed they fail, so none runs by default:
// INTERLUDE_MODEL_KNOWN=rep runs the representatives (one or two per mechanism),
// INTERLUDE_MODEL_KNOWN=all every one.
//
// Mechanisms (file:line at db427d9):
//
//	B  an ending of link requests other than the contact's own pairing (a removal while
//	   another device's or an offline attempt is open, pairing.go:587-602; an ending
//	   learned while waiting, contacts.go:386-392) goes to the clinician as pair_end
//	   notices but is not written into the account's contact document, which names one
//	   pairing. A clinician device that has not seen the notice yet accepts such a request;
//	   another client device adopts that acceptance as its own ("mine" is the account's,
//	   pairing.go:435-446) and publishes the pairing, which outranks the ending; the
//	   device that ended it adopts the pairing and deletes its notices not yet read
//	   (handlePairReply and adoptContact: deleteOwn pair_end, pairing.go:476,
//	   contacts.go:437). The removal is undone (the account ends up paired through the
//	   very request it ended), or the accounts split (the clinician ended it, the client
//	   is paired through it).
//	C  the client drops a request that the clinician accepts, and never tells the
//	   clinician: an ending withdraws live requests without a pair_end for them
//	   (withdrawFrom in adoptContact's ending branch, contacts.go:424), and
//	   handlePairReply then ignores the acceptance (the request is gone, or the ending is
//	   dated later: pairing.go:443-446 returns without a word). Under skew a pair_end from
//	   an account that is not a contact yet is dropped (received.go:524), so the clinician
//	   cannot date its acceptance after the client's ending. The clinician stays paired,
//	   the client not.
//	D  two contact documents for one contact (two devices each write the first one,
//	   contacts.go:325): each device adopts the other's, and the names end up swapped.
//	E  a device waits for good with its request live: the clinician ended its pairing
//	   before the device read the acceptance (the ending deletes the clinician's own
//	   answers, withdrawFrom), and the pair_end that would end the attempt is deleted as
//	   moot when the clinician pairs with another device of the account
//	   (handlePairRequest, pairing.go:410-413); or a refusal is withdrawn the same way.
//	   A waiting device with a live request keeps waiting while the account is paired
//	   (contacts.go:394).
//
// (A, found against earlier commits and fixed in db427d9: a device that treated another
// device's request as its own deleted it, and the device that made it waited for good.)
var pmKnownFailures = []struct {
	seed  uint64
	keep  string
	class string
	rep   bool // run by default
}{
	{12, "20,25,27", "B", true},                                   // inv4b
	{56, "4,5,9,10,12,16,23,24", "E", true},                       // inv1
	{60, "25,27,30", "B", false},                                  // inv2
	{64, "4,8,26,27", "B", false},                                 // inv4b
	{66, "2,7,8,10", "C", false},                                  // inv2
	{73, "1,2,11,18,22,24,26,27,28,29,30", "B", false},            // inv4b
	{102, "9,20,23,24,26,28", "B", false},                         // inv2
	{106, "9,13,15,21,26,28,30", "C", false},                      // inv2
	{124, "1,23,24,29,30", "C", true},                             // inv2
	{137, "1,2,3,5,28,30", "B", true},                             // inv2
	{144, "12,22,26", "B", false},                                 // inv4b
	{149, "1,6,21", "C", false},                                   // inv2
	{174, "3,20,29", "B", false},                                  // inv2
	{181, "1,2,3,4,5,8,11,13,14,16,20,21,24,25,26,29", "B", true}, // inv2b
	{237, "1,2,7,8,18,25,26,27", "C", false},                      // inv2
	{241, "20,23,24", "D", true},                                  // inv1
	{247, "4,9,20,27,29", "B", false},                             // inv4b
	{268, "2,24,25,28,30", "C", false},                            // inv2
	{293, "1,2,3,5,6,8,12,15,17", "C", false},                     // inv2
	{303, "1,13,19", "C", true},                                   // inv2
	{306, "19,22,28,29,30", "E", true},                            // inv1
	{345, "11,26,28,30", "C", false},                              // inv2
	{357, "2,5,20,23", "B", false},                                // inv4b
	{370, "1,2,3,5,6,10,29,30", "C", false},                       // inv2
	{426, "1,2,3,5,20,21,22,23,26,30", "C", false},                // inv2
	{494, "9,11,28,30", "B", false},                               // inv2
}

type pmConfig struct {
	seeds   []uint64
	steps   int
	shrink  bool
	strict  bool
	verbose bool
	random  bool         // INTERLUDE_MODEL_RANDOM=1: real randomness (record IDs differ from run to run)
	fromEnv bool         // seeds chosen by INTERLUDE_MODEL_SEED(S)
	known   string       // INTERLUDE_MODEL_KNOWN: "all", "rep" (the representatives), or "" (none)
	keep    map[int]bool // INTERLUDE_MODEL_KEEP: run only these operations of the seed
	// inject, when set, tampers with the settled world before the invariants are checked
	// (TestPairingModelCatchesInjectedFaults).
	inject func(w *pmWorld)
}

func pmConfigFromEnv(t *testing.T) pmConfig {
	cfg := pmConfig{seeds: pairingModelSeeds, steps: 30, shrink: true}
	num := func(name string) (uint64, bool) {
		v := os.Getenv(name)
		if v == "" {
			return 0, false
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, v, err)
		}
		return n, true
	}
	cfg.known = os.Getenv("INTERLUDE_MODEL_KNOWN")
	if n, ok := num("INTERLUDE_MODEL_SEEDS"); ok {
		cfg.fromEnv = true
		cfg.seeds = nil
		for s := uint64(1); s <= n; s++ {
			cfg.seeds = append(cfg.seeds, s)
		}
	}
	if v := os.Getenv("INTERLUDE_MODEL_SEED"); v != "" {
		cfg.fromEnv = true
		cfg.seeds = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("INTERLUDE_MODEL_SEED=%q: %v", v, err)
			}
			cfg.seeds = append(cfg.seeds, n)
		}
	}
	if n, ok := num("INTERLUDE_MODEL_STEPS"); ok {
		cfg.steps = int(n)
	}
	cfg.shrink = os.Getenv("INTERLUDE_MODEL_SHRINK") != "0"
	cfg.strict = os.Getenv("INTERLUDE_MODEL_STRICT") == "1"
	cfg.verbose = os.Getenv("INTERLUDE_MODEL_VERBOSE") == "1"
	cfg.random = os.Getenv("INTERLUDE_MODEL_RANDOM") == "1"
	if v := os.Getenv("INTERLUDE_MODEL_KEEP"); v != "" {
		cfg.keep = map[int]bool{}
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				t.Fatalf("INTERLUDE_MODEL_KEEP=%q: %v", v, err)
			}
			cfg.keep[n] = true
		}
	}
	return cfg
}

// Devices: 0 and 1 are the clinician's, 2 and 3 the client's.
var pmNames = [4]string{"doc0", "doc1", "pat0", "pat1"}

func pmClinicianSide(d int) bool { return d < 2 }

// pmScenario is what a seed fixes besides the operations: the clocks' offsets and the
// order in which the final syncs visit the devices.
type pmScenario struct {
	seed   uint64
	off    [4]time.Duration
	settle [4]int
}

func (sc pmScenario) String() string {
	var b strings.Builder
	for i, o := range sc.off {
		fmt.Fprintf(&b, "%s %+ds ", pmNames[i], int(o/time.Second))
	}
	fmt.Fprintf(&b, "(final syncs in the order %s %s %s %s)", pmNames[sc.settle[0]], pmNames[sc.settle[1]], pmNames[sc.settle[2]], pmNames[sc.settle[3]])
	return b.String()
}

func pmScenarioFor(seed uint64) pmScenario {
	rng := rand.New(rand.NewPCG(seed, 0x5ce0a410))
	sc := pmScenario{seed: seed, settle: [4]int{0, 1, 2, 3}}
	var skew, jitter int // seconds
	switch rng.IntN(3) {
	case 0: // one clock for everyone
	case 1:
		skew, jitter = 5, 1
	default:
		skew, jitter = 120, 2
	}
	for acct := 0; acct < 2; acct++ {
		base := 0
		if skew > 0 {
			base = rng.IntN(2*skew+1) - skew
		}
		for d := 2 * acct; d < 2*acct+2; d++ {
			j := 0
			if jitter > 0 {
				j = rng.IntN(2*jitter+1) - jitter
			}
			sc.off[d] = time.Duration(base+j) * time.Second
		}
	}
	rng.Shuffle(4, func(i, j int) { sc.settle[i], sc.settle[j] = sc.settle[j], sc.settle[i] })
	return sc
}

type pmKind int

const (
	pmPair      pmKind = iota // a code made on dev, typed in on with
	pmInvite                  // a code made on dev, kept for later
	pmAcceptOld               // a code made earlier (n-th, modulo) typed in on dev
	pmRemove                  // dev removes the other account
	pmRename                  // dev renames the other account
	pmShare                   // dev (the client's) adds an entry and shares it with the clinician
	pmSync                    // dev syncs
	pmAdvance                 // every clock advances by d
	pmJump                    // dev's clock jumps by d
)

type pmOp struct {
	idx  int // 1-based position in the seed's list (INTERLUDE_MODEL_KEEP)
	kind pmKind
	dev  int
	with int
	n    int
	d    time.Duration
	tick time.Duration // time passing before the operation, on every clock
}

var pmRenames = []string{"Dr Lee", "Dr L", "Lee", "Dr Kim"}
var pmClientNames = []string{"Sam", "Sam R", "S", "Samantha"}

func (op pmOp) String() string {
	switch op.kind {
	case pmPair:
		return fmt.Sprintf("pair: a code made on %s, typed in on %s", pmNames[op.dev], pmNames[op.with])
	case pmInvite:
		return fmt.Sprintf("a code made on %s, kept for later", pmNames[op.dev])
	case pmAcceptOld:
		return fmt.Sprintf("%s types in an earlier code (#%d, modulo)", pmNames[op.dev], op.n)
	case pmRemove:
		return fmt.Sprintf("%s removes the contact", pmNames[op.dev])
	case pmRename:
		return fmt.Sprintf("%s renames the contact %q", pmNames[op.dev], pmRenameTo(op))
	case pmShare:
		return fmt.Sprintf("%s shares a new entry with the clinician (if paired)", pmNames[op.dev])
	case pmSync:
		return fmt.Sprintf("%s syncs", pmNames[op.dev])
	case pmAdvance:
		return fmt.Sprintf("time passes: %s", op.d)
	case pmJump:
		return fmt.Sprintf("%s's clock jumps %+ds", pmNames[op.dev], int(op.d/time.Second))
	}
	return "?"
}

func pmRenameTo(op pmOp) string {
	if pmClinicianSide(op.dev) {
		return pmClientNames[op.n%len(pmClientNames)]
	}
	return pmRenames[op.n%len(pmRenames)]
}

// pmGenOps draws the operations of a seed. They depend on the seed alone, never on the
// state of a run, so that any sub-list is a valid run too (shrinking).
func pmGenOps(seed uint64, steps int) []pmOp {
	rng := rand.New(rand.NewPCG(seed, 0x0b5e55ed))
	skewed := pmScenarioFor(seed).off != [4]time.Duration{}
	var ops []pmOp
	if rng.IntN(2) == 0 { // half the seeds start paired, everyone synced
		ops = append(ops, pmOp{kind: pmPair, dev: 0, with: 2},
			pmOp{kind: pmSync, dev: 0}, pmOp{kind: pmSync, dev: 2}, pmOp{kind: pmSync, dev: 1}, pmOp{kind: pmSync, dev: 3})
	}
	type w struct {
		k pmKind
		n int
	}
	weights := []w{{pmPair, 13}, {pmInvite, 4}, {pmAcceptOld, 7}, {pmRemove, 14}, {pmRename, 5}, {pmShare, 7},
		{pmSync, 34}, {pmAdvance, 8}, {pmJump, 4}}
	total := 0
	for _, x := range weights {
		total += x.n
	}
	for len(ops) < steps {
		r := rng.IntN(total)
		var k pmKind
		for _, x := range weights {
			if r < x.n {
				k = x.k
				break
			}
			r -= x.n
		}
		op := pmOp{kind: k, tick: time.Duration(rng.IntN(4)) * time.Second}
		switch k {
		case pmPair:
			op.dev, op.with = rng.IntN(2), 2+rng.IntN(2)
		case pmInvite:
			op.dev = rng.IntN(2)
		case pmAcceptOld, pmShare:
			op.dev, op.n = 2+rng.IntN(2), rng.IntN(1000)
		case pmRemove, pmSync:
			op.dev = rng.IntN(4)
		case pmRename:
			op.dev, op.n = rng.IntN(4), rng.IntN(1000)
		case pmAdvance:
			if rng.IntN(2) == 0 {
				op.d = time.Duration(5+rng.IntN(56)) * time.Second
			} else {
				op.d = time.Duration(60+rng.IntN(241)) * time.Second
			}
		case pmJump:
			if !skewed {
				op.kind, op.dev = pmSync, rng.IntN(4)
				break
			}
			op.dev = rng.IntN(4)
			op.d = time.Duration(1+rng.IntN(30)) * time.Second
			if rng.IntN(2) == 0 {
				op.d = -op.d
			}
		}
		ops = append(ops, op)
	}
	ops = ops[:steps]
	for i := range ops {
		ops[i].idx = i + 1
	}
	return ops
}

// pmKept lists the positions of ops, for INTERLUDE_MODEL_KEEP.
func pmKept(ops []pmOp) string {
	var b strings.Builder
	for i, op := range ops {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, op.idx)
	}
	return b.String()
}

// pmWorld is one run: the server, the four devices, the virtual clocks and what the
// model recorded.
type pmWorld struct {
	t   *testing.T
	ctx context.Context
	s   *testServer
	cfg pmConfig

	mu   sync.Mutex
	base time.Time
	g    time.Duration // virtual time since base (the "true" time)
	off  [4]time.Duration

	dev       [4]*Client
	clin, cli syncproto.AccountID // the clinician's and the client's account

	step     int
	spread   time.Duration // the largest disagreement of two clocks so far
	codes    []pmCode
	reqs     map[syncproto.RecordID]*pmAttempt
	nreqs    int
	removals []*pmRemoval
	accepts  []*pmAccept
	renames  []*pmRenaming
	lastSync [4]int // step of each device's last complete sync (Sync or AcceptPairCode), 0: none
	replies  map[syncproto.RecordID]bool
	entries  []syncproto.RecordID

	log  []string
	fail *pmFailure
}

type pmCode struct {
	code string
	dev  int
}

type pmAttempt struct {
	id        syncproto.RecordID
	name      string // Q1, Q2… in the order they began
	dev       int
	deletedBy int // the device where the request was first seen deleted; -1 while live
	step      int
	g         time.Duration
	code      int
}

type pmRemoval struct {
	dev     int
	step    int
	g       time.Duration
	pushed  int                  // step of the device's first complete sync after it; -1 until then
	live    []syncproto.RecordID // the client's link requests live on the device then
	pairing syncproto.RecordID
}

type pmRenaming struct {
	dev      int
	step     int
	name     string
	pairing  syncproto.RecordID // the pairing the device held (paired) when it renamed
	after    int                // the device's last complete sync before the rename
	pushed   int                // step of the device's first complete sync after it; -1 until then
	verified bool               // the device was paired: the rename is published (a contact document)
}

type pmAccept struct {
	req  syncproto.RecordID
	dev  int
	step int
	g    time.Duration
}

type pmFailure struct {
	inv    string
	detail string
}

type pmResult struct {
	fail *pmFailure
	log  []string
}

func (w *pmWorld) failf(inv, format string, args ...any) {
	if w.fail == nil {
		w.fail = &pmFailure{inv: inv, detail: fmt.Sprintf(format, args...) + "\n    devices then: " + w.states()}
	}
}

// pmBase is when every run's true time starts: noon, so that no run crosses a day (record
// IDs carry their day).
var pmBase = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

type pmClock struct {
	w   *pmWorld
	dev int
}

func (c pmClock) Now() time.Time {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.w.base.Add(c.w.g + c.w.off[c.dev])
}

func (w *pmWorld) advance(d time.Duration) {
	w.mu.Lock()
	w.g += d
	w.mu.Unlock()
}

func (w *pmWorld) noteSpread() {
	w.mu.Lock()
	lo, hi := w.off[0], w.off[0]
	for _, o := range w.off {
		lo, hi = min(lo, o), max(hi, o)
	}
	w.spread = max(w.spread, hi-lo)
	w.mu.Unlock()
}

// pmRun runs ops on a fresh server and devices, settles, and checks the invariants.
func pmRun(t *testing.T, sc pmScenario, ops []pmOp, cfg pmConfig) *pmResult {
	t.Helper()
	// Every random byte of the run (keys, record IDs, which decide ties between events of
	// the same second, and the server's) comes from the seed, and the clocks start at a
	// fixed time: a seed replays exactly. (This is why seeds run one after the other.)
	if !cfg.random {
		cryptotest.SetGlobalRandom(t, sc.seed)
	}
	ctx := context.Background()
	w := &pmWorld{t: t, ctx: ctx, s: newTestServer(t), cfg: cfg, base: pmBase, off: sc.off,
		reqs: map[syncproto.RecordID]*pmAttempt{}, replies: map[syncproto.RecordID]bool{}}
	w.noteSpread()
	for i := range w.dev {
		w.dev[i] = newClient(t, Options{Now: pmClock{w, i}.Now})
	}
	for _, first := range []int{0, 2} {
		kit, err := w.dev[first].SignUp(ctx, w.s.url, []byte(pass), SignUpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.dev[first+1].Login(ctx, kit, []byte(pass)); err != nil {
			t.Fatal(err)
		}
	}
	w.clin, w.cli = w.account(0), w.account(2)
	for i, op := range ops {
		w.step = i + 1
		w.advance(op.tick)
		outcome := w.exec(op)
		if op.kind != pmAdvance && op.kind != pmJump {
			outcome += w.noteDeletions(op.dev)
		}
		w.noteSpread()
		w.log = append(w.log, fmt.Sprintf("%3d [t=%+4ds] %-66s %s\n      %s", w.step, int(w.g/time.Second),
			fmt.Sprintf("%s (op %d)", op, op.idx), outcome, w.states()))
		if w.fail != nil {
			return &pmResult{fail: w.fail, log: w.log}
		}
	}
	w.settle(sc)
	if w.fail == nil && cfg.inject != nil {
		cfg.inject(w)
	}
	if w.fail == nil {
		w.check()
	}
	return &pmResult{fail: w.fail, log: w.log}
}

func (w *pmWorld) account(d int) syncproto.AccountID {
	k, err := w.dev[d].unlocked()
	if err != nil {
		w.t.Fatal(err)
	}
	return syncproto.AccountID(k.id.Account)
}

// other is the account device d pairs with.
func (w *pmWorld) other(d int) syncproto.AccountID {
	if pmClinicianSide(d) {
		return w.cli
	}
	return w.clin
}

func (w *pmWorld) exec(op pmOp) string {
	ctx := w.ctx
	c := w.dev[op.dev]
	switch op.kind {
	case pmPair, pmInvite:
		inv, err := c.NewInvite(ctx, InviteOptions{Name: "Dr Lee"})
		if err != nil {
			w.failf("operation", "%s: NewInvite: %v", pmNames[op.dev], err)
			return "error"
		}
		w.codes = append(w.codes, pmCode{code: inv.Code, dev: op.dev})
		if op.kind == pmInvite {
			return fmt.Sprintf("code #%d", len(w.codes)-1)
		}
		return w.accept(op.with, len(w.codes)-1)
	case pmAcceptOld:
		if len(w.codes) == 0 {
			return "no code made yet: nothing done"
		}
		return w.accept(op.dev, op.n%len(w.codes))
	case pmRemove:
		var live []syncproto.RecordID
		if !pmClinicianSide(op.dev) {
			live = w.liveRequests(op.dev)
		}
		before := w.contactOn(op.dev)
		if _, err := c.RemoveContact(ctx, w.other(op.dev).String()); err != nil {
			if errors.Is(err, ErrNoContact) {
				return "not listed: nothing done"
			}
			w.failf("operation", "%s: RemoveContact: %v", pmNames[op.dev], err)
			return "error"
		}
		r := &pmRemoval{dev: op.dev, step: w.step, g: w.g, pushed: -1, live: live}
		if before != nil {
			r.pairing = before.pairing
		}
		w.removals = append(w.removals, r)
		names := make([]string, len(live))
		for i, id := range live {
			names[i] = w.reqName(id)
		}
		return fmt.Sprintf("removed (live requests there: %v)", names)
	case pmRename:
		to := pmRenameTo(op)
		before := w.contactOn(op.dev)
		if err := c.RenameContact(ctx, w.other(op.dev).String(), to); err != nil {
			if errors.Is(err, ErrNoContact) {
				return "not listed: nothing done"
			}
			w.failf("operation", "%s: RenameContact: %v", pmNames[op.dev], err)
			return "error"
		}
		r := &pmRenaming{dev: op.dev, step: w.step, name: to, after: w.lastSync[op.dev], pushed: -1}
		if before != nil && before.state == ContactPaired {
			r.pairing, r.verified = before.pairing, true
		}
		w.renames = append(w.renames, r)
		return "renamed"
	case pmShare:
		ct, err := c.Contact(ctx, w.clin.String())
		paired := err == nil && ct.State == ContactPaired && !ct.KeyChanged
		id, err := c.Add(ctx, checkin(w.t, 1+op.n%9, fmt.Sprintf("entry %d", w.step)))
		if err != nil {
			w.failf("operation", "%s: Add: %v", pmNames[op.dev], err)
			return "error"
		}
		err = c.Share(ctx, id, w.clin, ShareOptions{})
		switch {
		case paired && err != nil:
			w.failf("operation", "%s lists the clinician as paired but Share fails: %v", pmNames[op.dev], err)
		case !paired && err == nil:
			w.failf("operation", "%s does not list the clinician as paired but Share succeeds", pmNames[op.dev])
		case !paired && !errors.Is(err, ErrNoContact) && !errors.Is(err, ErrNotPaired):
			w.failf("operation", "%s: Share: unexpected error %v", pmNames[op.dev], err)
		}
		w.entries = append(w.entries, id)
		if err != nil {
			return "not paired here: not shared"
		}
		return "shared"
	case pmSync:
		return w.sync(op.dev)
	case pmAdvance:
		w.advance(op.d)
		return ""
	case pmJump:
		w.mu.Lock()
		w.off[op.dev] = max(-150*time.Second, min(150*time.Second, w.off[op.dev]+op.d))
		w.mu.Unlock()
		return ""
	}
	return "?"
}

// accept types code i in on device d and records the attempt (its link request).
func (w *pmWorld) accept(d, i int) string {
	code := w.codes[i]
	_, rep, err := w.dev[d].AcceptPairCode(w.ctx, code.code, AcceptOptions{Name: "Sam"})
	if err != nil {
		w.failf("operation", "%s: AcceptPairCode (code #%d of %s): %v", pmNames[d], i, pmNames[code.dev], err)
		return "error"
	}
	w.syncProblems(d, rep)
	if rep.Pending == 0 {
		w.pushed(d)
	}
	var ids [][]byte
	if err := w.dev[d].db.SelectContext(w.ctx, &ids, `SELECT id FROM records WHERE owner = ? AND role = ?`, w.cli[:], rolePairRequest); err != nil {
		w.t.Fatal(err)
	}
	var fresh []syncproto.RecordID
	for _, id := range ids {
		if w.reqs[syncproto.RecordID(id)] == nil {
			fresh = append(fresh, syncproto.RecordID(id))
		}
	}
	if len(fresh) != 1 {
		w.failf("model", "%s: AcceptPairCode left %d new link requests, want 1", pmNames[d], len(fresh))
		return "error"
	}
	w.nreqs++
	a := &pmAttempt{id: fresh[0], name: fmt.Sprintf("Q%d", w.nreqs), dev: d, step: w.step, g: w.g, code: i, deletedBy: -1}
	w.reqs[a.id] = a
	return fmt.Sprintf("code #%d of %s: request %s", i, pmNames[code.dev], a.name) + w.reportNote(rep)
}

// synced records what device d's sync did (problems, pushes, acceptances it made) and
// returns the note for the log.
func (w *pmWorld) synced(d int, rep *SyncReport) string {
	w.syncProblems(d, rep)
	if rep.Pending == 0 {
		w.pushed(d)
	}
	note := w.reportNote(rep)
	if pmClinicianSide(d) {
		note += w.scanAcceptances(d)
	}
	return note
}

func (w *pmWorld) sync(d int) string {
	rep, err := w.dev[d].Sync(w.ctx)
	if err != nil {
		w.failf("operation", "%s: Sync: %v", pmNames[d], err)
		return "error"
	}
	return strings.TrimPrefix(w.synced(d, rep), " ")
}

// syncProblems fails the run on what no interleaving excuses: a push the server refused,
// a digest that does not match after the repair, a conflict (contact documents are
// merged, never reported as conflicts; no entry is ever edited here).
func (w *pmWorld) syncProblems(d int, rep *SyncReport) {
	if len(rep.Refused) > 0 || rep.DigestMismatch != "" || len(rep.Conflicts) > 0 {
		w.failf("sync", "%s: refused %+v, digest mismatch %q, conflicts %v", pmNames[d], rep.Refused, rep.DigestMismatch, rep.Conflicts)
	}
}

func (w *pmWorld) reportNote(rep *SyncReport) string {
	var parts []string
	for _, p := range rep.Pairings {
		if p.Accepted {
			parts = append(parts, "pairing accepted")
		} else {
			parts = append(parts, "pairing refused ("+p.Reason+")")
		}
	}
	if len(rep.Ended) > 0 {
		parts = append(parts, fmt.Sprintf("told of %d ending(s)", len(rep.Ended)))
	}
	for _, l := range rep.Learned {
		parts = append(parts, "learned "+string(l.State))
	}
	for _, x := range rep.Invalid {
		parts = append(parts, "INVALID: "+x.Reason)
	}
	if len(parts) == 0 {
		return ""
	}
	return " [" + strings.Join(parts, "; ") + "]"
}

// pushed notes that device d's removals and renames have reached the server.
func (w *pmWorld) pushed(d int) {
	w.lastSync[d] = w.step
	for _, r := range w.removals {
		if r.dev == d && r.pushed < 0 {
			r.pushed = w.step
		}
	}
	for _, r := range w.renames {
		if r.dev == d && r.pushed < 0 {
			r.pushed = w.step
		}
	}
}

// scanAcceptances records the acceptances clinician device d made in the sync that just
// ended: its answers (own pair_reply records) not seen before. It returns a note for the
// log naming the requests accepted.
func (w *pmWorld) scanAcceptances(d int) (note string) {
	c := w.dev[d]
	k, err := c.unlocked()
	if err != nil {
		w.t.Fatal(err)
	}
	var rows []recordRow
	// In feed order: the device answered the requests in that order, and the last one
	// it accepted is the newest event (two acceptances in one sync).
	if err := c.db.SelectContext(w.ctx, &rows, `SELECT `+recordCols+` FROM records WHERE owner = ? AND role = ? AND deleted = 0
		ORDER BY seq`, w.clin[:], rolePairReply); err != nil {
		w.t.Fatal(err)
	}
	for i := range rows {
		id := syncproto.RecordID(rows[i].ID)
		if w.replies[id] {
			continue
		}
		w.replies[id] = true
		pt, err := open(k, id, rows[i].Revision, rows[i].Envelope, rows[i].OwnerKey)
		if err != nil {
			w.failf("model", "%s: an answer does not open: %v", pmNames[d], err)
			return note
		}
		rep, err := parseControl(pt)
		if err != nil || rep == nil {
			w.failf("model", "%s: an answer does not parse: %v", pmNames[d], err)
			return note
		}
		if !rep.Accepted {
			continue
		}
		req, err := recordRef(rep.Request)
		if err != nil {
			w.failf("model", "%s: an answer names no request", pmNames[d])
			return note
		}
		w.accepts = append(w.accepts, &pmAccept{req: req, dev: d, step: w.step, g: w.g})
		note += " [accepted " + w.reqName(req) + "]"
	}
	return note
}

// noteDeletions records which device deleted each link request first (only device d
// acted since the last look, so a deletion first seen there was made there, or pulled
// from the server when made elsewhere, which was seen there first), and returns a note
// for the log when a device deleted a request another device made.
func (w *pmWorld) noteDeletions(d int) string {
	if pmClinicianSide(d) {
		return ""
	}
	var ids [][]byte
	if err := w.dev[d].db.SelectContext(w.ctx, &ids, `SELECT id FROM records WHERE owner = ? AND role = ? AND deleted = 1`,
		w.cli[:], rolePairRequest); err != nil {
		w.t.Fatal(err)
	}
	note := ""
	for _, id := range ids {
		a := w.reqs[syncproto.RecordID(id)]
		if a == nil || a.deletedBy >= 0 {
			continue
		}
		a.deletedBy = d
		if a.dev != d {
			note += fmt.Sprintf(" [deleted %s, which %s made]", a.name, pmNames[a.dev])
		}
	}
	return note
}

// liveRequests lists the client's link requests live on device d (what RemoveContact
// there ends: ownRequests).
func (w *pmWorld) liveRequests(d int) []syncproto.RecordID {
	var ids [][]byte
	if err := w.dev[d].db.SelectContext(w.ctx, &ids, `SELECT r.id FROM records r JOIN grants g ON g.record = r.id
		WHERE r.owner = ? AND r.role = ? AND r.deleted = 0 AND g.recipient = ? ORDER BY r.id`, w.cli[:], rolePairRequest, w.clin[:]); err != nil {
		w.t.Fatal(err)
	}
	out := make([]syncproto.RecordID, len(ids))
	for i, id := range ids {
		out[i] = syncproto.RecordID(id)
	}
	return out
}

func (w *pmWorld) contactOn(d int) *contact {
	c := w.dev[d]
	k, err := c.unlocked()
	if err != nil {
		w.t.Fatal(err)
	}
	ct, err := getContact(w.ctx, c.db, k, w.other(d))
	if err != nil {
		w.t.Fatal(err)
	}
	return ct
}

func (w *pmWorld) reqName(id syncproto.RecordID) string {
	if id.IsZero() {
		return "-"
	}
	if a := w.reqs[id]; a != nil {
		return a.name
	}
	return "?" + id.String()[20:]
}

func (w *pmWorld) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("@%+d", int(t.Sub(w.base)/time.Second))
}

// stateOf describes device d's contact: "paired(Q2@+65 "Dr Lee")", "ended(Q1 p@+3 e@+40)"…
// and, on the client's devices, the link requests live there: "{Q2,Q3}".
func (w *pmWorld) stateOf(d int) string {
	s := w.contactState(d)
	if !pmClinicianSide(d) {
		var names []string
		for _, id := range w.liveRequests(d) {
			names = append(names, w.reqName(id))
		}
		sort.Strings(names)
		s += "{" + strings.Join(names, ",") + "}"
	}
	return s
}

func (w *pmWorld) contactState(d int) string {
	ct := w.contactOn(d)
	if ct == nil {
		return "none"
	}
	switch ct.state {
	case ContactPaired:
		return fmt.Sprintf("paired(%s%s %q)", w.reqName(ct.pairing), w.stamp(ct.paired), ct.name)
	case ContactEnded:
		return fmt.Sprintf("ended(%s p%s e%s)", w.reqName(ct.pairing), w.stamp(ct.paired), w.stamp(ct.ended))
	case ContactRejected:
		return fmt.Sprintf("rejected(%s %s)", w.reqName(ct.pairing), ct.reason)
	}
	return fmt.Sprintf("%s(%s)", ct.state, w.reqName(ct.pairing))
}

func (w *pmWorld) states() string {
	var b strings.Builder
	for d := range w.dev {
		fmt.Fprintf(&b, "%s=%s ", pmNames[d], w.stateOf(d))
	}
	return strings.TrimSpace(b.String())
}

// settle syncs every device, round after round, until a whole round changes nothing.
func (w *pmWorld) settle(sc pmScenario) {
	const rounds = 12
	for round := 1; round <= rounds; round++ {
		quiet := true
		for _, d := range sc.settle {
			w.step++
			w.advance(time.Second)
			rep, err := w.dev[d].Sync(w.ctx)
			if err != nil {
				w.failf("settle", "%s: Sync: %v", pmNames[d], err)
				return
			}
			note := w.synced(d, rep) + w.noteDeletions(d)
			if note != "" || rep.Pushed > 0 || w.cfg.verbose {
				w.log = append(w.log, fmt.Sprintf("%3d [t=%+4ds] %-66s pushed %d%s\n      %s", w.step, int(w.g/time.Second),
					fmt.Sprintf("final sync, round %d: %s", round, pmNames[d]), rep.Pushed, note, w.states()))
			}
			if w.fail != nil {
				return
			}
			if rep.Pushed > 0 || rep.Pending > 0 || len(rep.Learned) > 0 || len(rep.Pairings) > 0 || len(rep.Ended) > 0 || len(rep.Invalid) > 0 {
				quiet = false
			}
		}
		if quiet {
			w.log = append(w.log, fmt.Sprintf("    settled after %d rounds of final syncs: %s", round, w.states()))
			return
		}
	}
	w.failf("settle", "the devices keep changing after %d rounds of syncs (a document passed to and fro?)", rounds)
}

// view is what device d says about the pairing: "paired Q3 "Dr Lee"", or "not paired".
func (w *pmWorld) view(d int, withName bool) string {
	ct := w.contactOn(d)
	if ct == nil || ct.state != ContactPaired {
		return "not paired"
	}
	if withName {
		return fmt.Sprintf("paired %s %q", w.reqName(ct.pairing), ct.name)
	}
	return "paired " + w.reqName(ct.pairing)
}

func (w *pmWorld) check() {
	// inv1: the devices of each account agree, and none still waits for an answer.
	for _, pair := range [][2]int{{0, 1}, {2, 3}} {
		a, b := w.view(pair[0], true), w.view(pair[1], true)
		if a != b {
			w.failf("inv1 (the devices of an account agree)", "%s says %s, %s says %s", pmNames[pair[0]], a, pmNames[pair[1]], b)
			return
		}
	}
	for d := range w.dev {
		if ct := w.contactOn(d); ct != nil && ct.state == ContactPending {
			req := "deleted there"
			if slices.Contains(w.liveRequests(d), ct.pairing) {
				req = "still live there"
			}
			w.failf("inv1 (no device still waits)", "%s still waits for an answer: %s (its request %s is %s)",
				pmNames[d], w.contactState(d), w.reqName(ct.pairing), req)
			return
		}
	}
	// inv2: the accounts agree: paired with each other or not; and, when every clock
	// agreed throughout (pairings are ordered by the clinician's clocks), through the
	// same pairing.
	clin, cli := w.view(0, false), w.view(2, false)
	if (clin == "not paired") != (cli == "not paired") {
		w.failf("inv2 (the accounts agree)", "the clinician's devices say %s, the client's %s", clin, cli)
		return
	}
	if clin != cli {
		if w.spread == 0 {
			w.failf("inv2b (the accounts agree on the pairing)", "the clinician's devices say %s, the client's %s (every clock agreed)", clin, cli)
			return
		}
		w.log = append(w.log, fmt.Sprintf("    inv2b not asserted (the clocks disagreed by up to %s): the clinician's devices say %s, the client's %s", w.spread, clin, cli))
	}
	// inv3: nothing shared with a clinician the client is not paired with; no copies kept
	// by a clinician not paired with the client.
	if w.view(2, false) == "not paired" && len(w.entries) > 0 {
		db := w.s.db()
		for _, id := range w.entries {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM grants WHERE record = ? AND recipient = ?`, id[:], w.clin[:]).Scan(&n); err != nil {
				w.t.Fatal(err)
			}
			if n > 0 {
				w.failf("inv3 (no grant to an ended contact)", "the client's account is not paired, yet entry %s keeps %d grant(s) to the clinician on the server", id, n)
				return
			}
		}
	}
	if w.view(0, false) == "not paired" {
		for d := 0; d < 2; d++ {
			var n int
			if err := w.dev[d].db.GetContext(w.ctx, &n, `SELECT count(*) FROM records WHERE owner = ? AND deleted = 0 AND role IN (?, ?)`,
				w.cli[:], roleEntry, roleDerived); err != nil {
				w.t.Fatal(err)
			}
			if n > 0 {
				w.failf("inv3 (no copies kept after the end)", "%s is not paired with the client, yet keeps %d of their entries", pmNames[d], n)
				return
			}
		}
	}
	// inv5: a rename reaches the account's other devices.
	for _, devs := range [][2]int{{0, 1}, {2, 3}} {
		if name, why := w.expectedName(devs); name != "" {
			w.log = append(w.log, fmt.Sprintf("    inv5 asserted on %s and %s: %q (%s)", pmNames[devs[0]], pmNames[devs[1]], name, why))
			for _, d := range devs {
				if ct := w.contactOn(d); ct == nil || ct.name != name {
					w.failf("inv5 (the last rename holds)", "expected %q on %s and %s (%s), but %s says %s",
						name, pmNames[devs[0]], pmNames[devs[1]], why, pmNames[d], w.contactState(d))
					return
				}
			}
		}
	}
	// inv4b: within one pairing an ending is final: no device is paired through a link
	// request that a removal ended (it was live on the removing device, which held it
	// then), whatever the times.
	for d := range w.dev {
		ct := w.contactOn(d)
		if ct == nil || ct.state != ContactPaired {
			continue
		}
		q := w.reqs[ct.pairing]
		for _, r := range w.removals {
			if q != nil && !pmClinicianSide(r.dev) && q.step < r.step && slices.Contains(r.live, q.id) {
				w.failf("inv4b (an ending is final within its pairing)", "%s is paired through %s, which the removal on %s at step %d ended",
					pmNames[d], q.name, pmNames[r.dev], r.step)
				return
			}
		}
	}
	// inv4: the newest event decides, where the docs promise it.
	if want, why := w.expectation(); want == "" {
		w.log = append(w.log, "    inv4 not asserted: "+why)
	} else {
		for d := range w.dev {
			if got := w.view(d, false); got != want {
				w.failf("inv4 (the newest event decides)", "expected %s everywhere (%s), but %s says %s", want, why, pmNames[d], got)
				return
			}
		}
		w.log = append(w.log, "    inv4 asserted: "+want+" ("+why+")")
	}
	// inv1c: every device's contact is what its account's contact document says (the
	// document is written whenever the state changes, and caught up by a device whose own
	// state holds).
	for d := range w.dev {
		ct := w.contactOn(d)
		if ct == nil || (ct.state != ContactPaired && ct.state != ContactEnded) {
			continue
		}
		k, err := w.dev[d].unlocked()
		if err != nil {
			w.t.Fatal(err)
		}
		var doc *control
		err = inTx(w.ctx, w.dev[d].db, func(tx *sqlx.Tx) error {
			var err error
			doc, _, err = w.dev[d].currentDoc(w.ctx, tx, k, w.other(d))
			return err
		})
		if err != nil {
			w.t.Fatal(err)
		}
		got := "no document"
		if doc != nil {
			got = fmt.Sprintf("%s %s", doc.State, w.reqName(pmRef(doc.Pairing)))
			if ContactState(doc.State) == ContactPaired {
				got += fmt.Sprintf(" %q", doc.Name)
			}
		}
		want := fmt.Sprintf("%s %s", ct.state, w.reqName(ct.pairing))
		if ct.state == ContactPaired {
			want += fmt.Sprintf(" %q", ct.name)
		}
		if got != want {
			w.failf("inv1c (the contact document says what the device holds)", "%s holds %s, its account's contact document says %s", pmNames[d], want, got)
			return
		}
	}
}

func pmRef(s string) syncproto.RecordID {
	id, _ := recordRef(s)
	return id
}

// expectedName is the name the devices devs of one account must show, or "": the last
// rename made there, when it renamed the pairing that holds at the end, nothing about
// the pairing happened after it, and a rename on the account's other device, if any,
// had reached the server before the renaming device last synced (two renames made
// offline are ordered by which reaches the server last, which the model leaves alone).
func (w *pmWorld) expectedName(devs [2]int) (string, string) {
	var last *pmRenaming
	for _, r := range w.renames {
		if r.dev == devs[0] || r.dev == devs[1] {
			last = r
		}
	}
	if last == nil || !last.verified {
		return "", ""
	}
	for _, a := range w.accepts {
		if a.step > last.step {
			return "", ""
		}
	}
	for _, r := range w.removals {
		if r.step > last.step {
			return "", ""
		}
	}
	if ct := w.contactOn(last.dev); ct == nil || ct.state != ContactPaired || ct.pairing != last.pairing {
		return "", ""
	}
	for _, r := range w.renames {
		if r != last && (r.dev == devs[0] || r.dev == devs[1]) && r.dev != last.dev && (r.pushed < 0 || r.pushed > last.after) {
			return "", ""
		}
	}
	return last.name, fmt.Sprintf("renamed on %s at step %d, nothing about the pairing after it", pmNames[last.dev], last.step)
}

// expectation is what docs/sharing.md promises about the final state, from the events
// the model recorded: "paired Qn", "not paired", or "" (no promise), and why.
func (w *pmWorld) expectation() (string, string) {
	margin := w.spread + 5*time.Second
	type event struct {
		step int
		g    time.Duration
		rm   *pmRemoval
		acc  *pmAccept
	}
	var events []event
	var effective []*pmAccept
	for _, a := range w.accepts {
		q := w.reqs[a.req]
		if q == nil {
			return "", "an acceptance of a request the model did not see begin"
		}
		covered := false
		for _, r := range w.removals {
			if !pmClinicianSide(r.dev) && q.step < r.step && r.step < a.step && slices.Contains(r.live, a.req) {
				covered = true // that removal ended the request: its acceptance undoes nothing
			}
		}
		if !covered {
			effective = append(effective, a)
			events = append(events, event{step: a.step, g: a.g, acc: a})
		}
	}
	for _, r := range w.removals {
		events = append(events, event{step: r.step, g: r.g, rm: r})
	}
	if len(effective) == 0 {
		return "not paired", "no acceptance took effect"
	}
	sort.Slice(events, func(i, j int) bool { return events[i].step < events[j].step })
	last := events[len(events)-1]
	if last.rm != nil {
		for _, a := range effective {
			if last.g-a.g <= margin {
				return "", fmt.Sprintf("the last removal (step %d) is within the clocks' disagreement (%s) of the acceptance of %s (step %d): known limit",
					last.step, margin, w.reqName(a.req), a.step)
			}
		}
		return "not paired", fmt.Sprintf("the last event is the removal on %s at step %d", pmNames[last.rm.dev], last.step)
	}
	a := last.acc
	q := w.reqs[a.req]
	for _, b := range effective {
		if b != a && a.g-b.g <= margin {
			// Pairings are ordered by the clinician's clocks: two acceptances within their
			// disagreement may be ordered either way (docs: "Known limit").
			return "", fmt.Sprintf("the acceptance of %s (step %d) is within the clocks' disagreement (%s) of the acceptance of %s (step %d): known limit",
				q.name, a.step, margin, w.reqName(b.req), b.step)
		}
	}
	for _, r := range w.removals {
		if !pmClinicianSide(r.dev) && q.step < r.step && r.step < a.step {
			return "", fmt.Sprintf("%s removed the clinician at step %d while %s waited, without holding that request: whether it ends the attempt depends on the order %s learns of it",
				pmNames[r.dev], r.step, q.name, pmNames[q.dev])
		}
		if a.g-r.g <= margin {
			return "", fmt.Sprintf("the acceptance of %s (step %d) is within the clocks' disagreement (%s) of the removal at step %d: known limit",
				q.name, a.step, margin, r.step)
		}
		if !w.cfg.strict && !pmClinicianSide(r.dev) && r.step < q.step && r.dev != q.dev && (r.pushed < 0 || r.pushed > q.step) {
			return "", fmt.Sprintf("the removal on %s at step %d had not reached the server when %s began on %s",
				pmNames[r.dev], r.step, q.name, pmNames[q.dev])
		}
	}
	return "paired " + q.name, fmt.Sprintf("the last event is the acceptance of %s (begun at step %d on %s) by %s at step %d",
		q.name, q.step, pmNames[q.dev], pmNames[a.dev], a.step)
}

// pmShrink looks for a shorter list of operations that breaks the same invariant: the
// shortest failing prefix, then dropping one operation at a time while it still fails.
func pmShrink(t *testing.T, sc pmScenario, ops []pmOp, res *pmResult, cfg pmConfig) ([]pmOp, *pmResult) {
	deadline := time.Now().Add(3 * time.Minute)
	inv := res.fail.inv
	tries := 0
	try := func(cand []pmOp) *pmResult {
		tries++
		var r *pmResult
		t.Run(fmt.Sprintf("shrink-%d", tries), func(t *testing.T) { r = pmRun(t, sc, cand, cfg) })
		if r != nil && r.fail != nil && r.fail.inv == inv {
			return r
		}
		return nil
	}
	best, bestRes := ops, res
	// Shortest failing prefix (binary search; checked, since failing need not be monotone).
	lo, hi := 0, len(ops)
	for lo+1 < hi && time.Now().Before(deadline) {
		mid := (lo + hi) / 2
		if r := try(ops[:mid]); r != nil {
			hi, best, bestRes = mid, ops[:mid], r
		} else {
			lo = mid
		}
	}
	// Drop single operations, from the end, while it still fails.
	for changed := true; changed && time.Now().Before(deadline); {
		changed = false
		for i := len(best) - 1; i >= 0 && time.Now().Before(deadline); i-- {
			cand := append(slices.Clone(best[:i]), best[i+1:]...)
			if r := try(cand); r != nil {
				best, bestRes, changed = cand, r, true
			}
		}
	}
	return best, bestRes
}

// pmFullLog is the log of the run before shrinking, when it differs.
func pmFullLog(first *pmResult, ops, minimal []pmOp) string {
	if len(ops) == len(minimal) {
		return ""
	}
	return "full operation log of the seed:\n" + strings.Join(first.log, "\n")
}

// TestPairingModelCatchesInjectedFaults checks the checker: two fixed runs (one that ends
// paired, one that ends with a removal) pass as they are, and fail with the expected
// invariant once the settled state is tampered with behind the client's back.
func TestPairingModelCatchesInjectedFaults(t *testing.T) {
	paired := []pmOp{
		{kind: pmPair, dev: 0, with: 2}, {kind: pmSync, dev: 0}, {kind: pmSync, dev: 2}, {kind: pmSync, dev: 1},
		{kind: pmSync, dev: 3}, {kind: pmShare, dev: 3}, {kind: pmSync, dev: 3}, {kind: pmSync, dev: 0},
	}
	ended := append(slices.Clone(paired[:5]), pmOp{kind: pmAdvance, d: 10 * time.Second}, pmOp{kind: pmRemove, dev: 2})
	renamed := append(slices.Clone(paired), pmOp{kind: pmRename, dev: 2, n: 1}, pmOp{kind: pmSync, dev: 2}, pmOp{kind: pmSync, dev: 3})
	sc := pmScenario{settle: [4]int{0, 1, 2, 3}} // one clock for everyone
	exec := func(w *pmWorld, d int, q string, args ...any) {
		if _, err := w.dev[d].db.ExecContext(w.ctx, q, args...); err != nil {
			w.t.Fatal(err)
		}
	}
	// rename renames the client's contact on both of the client's devices, here only.
	rename := func(name string) func(w *pmWorld) {
		return func(w *pmWorld) {
			for d := 2; d < 4; d++ {
				k, err := w.dev[d].unlocked()
				if err != nil {
					w.t.Fatal(err)
				}
				ct := w.contactOn(d)
				ct.name = name
				if err := inTx(w.ctx, w.dev[d].db, func(tx *sqlx.Tx) error { return w.dev[d].storeContact(w.ctx, tx, k, ct) }); err != nil {
					w.t.Fatal(err)
				}
			}
		}
	}
	setState := func(state ContactState, devs ...int) func(w *pmWorld) {
		return func(w *pmWorld) {
			for _, d := range devs {
				exec(w, d, `UPDATE contacts SET state = ?`, string(state))
			}
		}
	}
	for _, tc := range []struct {
		name   string
		ops    []pmOp
		inject func(w *pmWorld)
		want   string // prefix of the invariant that must break; "" none
	}{
		{"paired as it is", paired, nil, ""},
		{"ended as it is", ended, nil, ""},
		{"one client device ended", paired, setState(ContactEnded, 3), "inv1 (the devices of an account agree)"},
		{"both client devices still pending", paired, setState(ContactPending, 2, 3), "inv1 (no device still waits)"},
		{"client ended, clinician paired", paired, setState(ContactEnded, 2, 3), "inv2 (the accounts agree)"},
		{"client on another pairing", paired, func(w *pmWorld) {
			exec(w, 2, `UPDATE contacts SET pairing = ?`, w.cli[:])
			exec(w, 3, `UPDATE contacts SET pairing = ?`, w.cli[:])
		}, "inv2b (the accounts agree on the pairing)"},
		{"everyone ended, the share left on the server", paired, setState(ContactEnded, 0, 1, 2, 3), "inv3 (no grant to an ended contact)"},
		{"clinician ended, copies kept", paired, func(w *pmWorld) {
			setState(ContactEnded, 0, 1, 2, 3)(w)
			db := w.s.db()
			if _, err := db.Exec(`DELETE FROM grants WHERE recipient = ?`, w.clin[:]); err != nil {
				w.t.Fatal(err)
			}
		}, "inv3 (no copies kept after the end)"},
		{"removal undone everywhere", ended, setState(ContactPaired, 0, 1, 2, 3), "inv4 (the newest event decides)"},
		{"renamed as it is", renamed, nil, ""},
		{"a rename lost on both devices", renamed, rename("Dr Who"), "inv5 (the last rename holds)"},
		{"renamed behind the contact document's back", paired, rename("Dr Who"), "inv1c (the contact document says what the device holds)"},
		{"pairing undone everywhere", paired[:5], setState(ContactEnded, 0, 1, 2, 3), "inv4 (the newest event decides)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := pmRun(t, sc, tc.ops, pmConfig{inject: tc.inject})
			switch {
			case tc.want == "" && res.fail != nil:
				t.Fatalf("%s broke without any tampering: %s\n%s", res.fail.inv, res.fail.detail, strings.Join(res.log, "\n"))
			case tc.want != "" && res.fail == nil:
				t.Fatalf("the checker missed it: want %s\n%s", tc.want, strings.Join(res.log, "\n"))
			case tc.want != "" && !strings.HasPrefix(res.fail.inv, tc.want):
				t.Fatalf("%s broke, want %s: %s", res.fail.inv, tc.want, res.fail.detail)
			}
		})
	}
}
