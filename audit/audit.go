package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options configure a run.
type Options struct {
	// DataDir is the server's data directory, or (better) a copy of it. Required.
	DataDir string
	// LogsDir holds the server's log files; empty skips the logs check.
	LogsDir string
	// Canaries are strings an auditor wrote into entries on a client. Each must be at least
	// MinCanaryLen bytes; none skips the canaries check (the positive controls still run).
	Canaries []string
	// TempDir is where the private snapshot is made (default os.TempDir()). It must not be
	// inside DataDir or LogsDir. The snapshot is removed when Run returns.
	TempDir string
	// Allowlist replaces the embedded allow-list (tests only).
	Allowlist *Allowlist
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// ErrUsage wraps errors in the options themselves (as opposed to errors reading the files).
var ErrUsage = errors.New("usage")

// Run audits a data directory and returns the report. An error means the audit could not
// be carried out (bad options, unreadable files, no database): it is never a finding.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Allowlist == nil {
		o.Allowlist = DefaultAllowlist()
	}
	start := o.Now()
	if o.DataDir == "" {
		return nil, fmt.Errorf("%w: no data directory given (--data DIR)", ErrUsage)
	}
	data, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(data); err == nil {
		data = real // a symlinked directory is walked as the directory it names
	}
	if fi, err := os.Stat(data); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: data directory %s: not a readable directory", ErrUsage, o.DataDir)
	}
	logs := ""
	if o.LogsDir != "" {
		if logs, err = filepath.Abs(o.LogsDir); err != nil {
			return nil, err
		}
		if real, err := filepath.EvalSymlinks(logs); err == nil {
			logs = real
		}
		if fi, err := os.Stat(logs); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: logs directory %s: not a readable directory", ErrUsage, o.LogsDir)
		}
	}
	var cs *canarySet
	if len(o.Canaries) > 0 {
		if cs, err = newCanarySet(o.Canaries); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
	}
	tmpParent := o.TempDir
	if tmpParent == "" {
		tmpParent = os.TempDir()
	}
	// Refuse before creating anything: the snapshot must never be made inside what is audited.
	if abs, err := filepath.Abs(tmpParent); err != nil || within(abs, data) || (logs != "" && within(abs, logs)) {
		return nil, fmt.Errorf("%w: the snapshot directory %s is inside the audited directory; pass another --tmp", ErrUsage, tmpParent)
	}
	tmp, err := os.MkdirTemp(tmpParent, "interlude-audit-")
	if err != nil {
		return nil, fmt.Errorf("make a private snapshot directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	rep := &Report{Format: ReportFormat, Tool: "interlude-audit", DataDir: data, LogsDir: logs, Started: start.UTC(),
		Snapshot: "every file was copied (opened read-only) into a private 0700 snapshot, and only the copies were read; " +
			"a database with a write-ahead log was folded on a further private copy, then opened with mode=ro&immutable=1",
		Databases: []string{}}
	files, skipped, err := snapshot(data, filepath.Join(tmp, "data"), "data")
	if err != nil {
		return nil, err
	}
	var logFiles []*snapFile
	if logs != "" {
		var lskipped []string
		logFiles, lskipped, err = snapshot(logs, filepath.Join(tmp, "logs"), "logs")
		if err != nil {
			return nil, err
		}
		for _, s := range lskipped {
			skipped = append(skipped, "logs/"+s)
		}
	}
	for _, f := range append(append([]*snapFile{}, files...), logFiles...) {
		rep.Files = append(rep.Files, f.File)
	}
	if cs != nil {
		rep.Canaries = len(cs.canaries)
	}

	work := filepath.Join(tmp, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	rep.Checks = append(rep.Checks, runControls(tmp, cs, logs != ""))

	var win *windowIndex
	if logs != "" {
		win = newWindowIndex()
	}
	var allObjs []schemaObject
	for _, f := range files {
		if f.Kind != KindDatabase {
			continue
		}
		d, err := openDatabase(ctx, f, files, work)
		if err != nil {
			return nil, fmt.Errorf("could not read database %s: %w", f.Path, err)
		}
		rep.Databases = append(rep.Databases, f.Path)
		objs, err := d.schemaObjects(ctx)
		if err == nil {
			allObjs = append(allObjs, objs...)
		}
		sc := newCheck(CheckSchema, f.Path, "every table, column, index, trigger and view is on the allow-list embedded in this binary, and the database is intact")
		present, err := checkSchema(ctx, d, o.Allowlist, sc)
		if err != nil {
			d.close()
			return nil, err
		}
		rep.Checks = append(rep.Checks, sc)
		da := newDBAudit(ctx, d, o.Allowlist, present, o.Now(), win)
		if err := da.run(); err != nil {
			d.close()
			return nil, err
		}
		rep.Checks = append(rep.Checks, da.checks()...)
		d.close()
	}
	if len(rep.Databases) == 0 {
		return nil, fmt.Errorf("no SQLite database in %s: is this the server's data directory?", data)
	}

	rep.Checks = append(rep.Checks, checkCanaries(files, skipped, cs))
	rep.Checks = append(rep.Checks, checkPlaintext(files, allObjs))
	rep.Checks = append(rep.Checks, checkLogs(logFiles, logs, cs, win))

	rep.Duration = math.Round(o.Now().Sub(start).Seconds()*100) / 100
	rep.finish()
	return rep, nil
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkCanaries searches every byte of every data file, and of every gzip file's content,
// for every encoding of every canary.
func checkCanaries(files []*snapFile, skipped []string, cs *canarySet) *Check {
	c := newCheck(CheckCanaries, "", "no canary appears in any file of the data directory, raw or in any of its encodings")
	if cs == nil {
		c.skip("no canaries given (--canary, --canary-file): nothing to search for")
		return c
	}
	var scanned int64
	byEncoding := map[string]int{}
	for _, f := range files {
		if f.Kind == KindCompressed {
			c.fail(Finding{File: f.Path, Message: fmt.Sprintf("a %s file: this tool cannot search inside it; decompress it into the copy and run again",
				compressedFormat(fileHead(f.copy, 8)))})
			continue
		}
		hits, err := cs.scanFile(f.copy)
		if err != nil {
			c.fail(Finding{File: f.Path, Message: "could not be read: " + err.Error()})
			continue
		}
		scanned += f.Size
		for _, h := range hits {
			byEncoding[h.encoding]++
			c.fail(Finding{File: f.Path, Offset: ptr(h.off), Where: h.encoding,
				Message: fmt.Sprintf("canary #%d %s found as %s", h.canary+1, preview([]byte(cs.canaries[h.canary]), 16), h.encoding)})
		}
	}
	for _, s := range skipped {
		c.fail(Finding{File: s, Message: "not a regular file, or could not be decompressed: not searched"})
	}
	c.Figures.Set("canaries", len(cs.canaries))
	c.Figures.Set("patterns", cs.total)
	c.Figures.Set("files", len(files))
	c.Figures.Set("bytes_searched", scanned)
	c.Figures.Set("hits", c.FindingCount)
	if len(byEncoding) > 0 {
		c.Figures.Set("hits_by_encoding", byEncoding)
	}
	if c.Status == StatusPass {
		c.Summary = fmt.Sprintf("0 hits: %d canaries × their encodings (%d patterns) searched in %d files, %s", len(cs.canaries), cs.total, len(files), humanBytes(scanned))
	} else {
		c.Summary = fmt.Sprintf("%d findings", c.FindingCount)
	}
	return c
}

// checkPlaintext looks for printable runs that are not schema text in every data file.
func checkPlaintext(files []*snapFile, objs []schemaObject) *Check {
	c := newCheck(CheckPlaintext, "", "no run of printable text other than the schema's own SQL appears in any data file")
	var total int64
	for _, f := range files {
		total += f.Size
	}
	minLen := minPrintable(total)
	allow := newTextAllow(objs)
	allowedRuns := 0
	for _, f := range files {
		if f.Kind == KindCompressed {
			continue // reported by the canaries check
		}
		n, err := scanPrintableFile(f.copy, minLen, allow, func(r printableRun) {
			c.fail(Finding{File: f.Path, Offset: ptr(r.off), Message: fmt.Sprintf("%d bytes of printable text: %s", r.n, preview(r.text, 24))})
		})
		if err != nil {
			c.fail(Finding{File: f.Path, Message: "could not be read: " + err.Error()})
		}
		allowedRuns += n
	}
	c.Figures.Set("min_run", minLen)
	c.Figures.Set("expected_chance_runs", printableStart*float64(total)*pow(printableP, minLen))
	c.Figures.Set("bytes_searched", total)
	c.Figures.Set("schema_text_runs", allowedRuns)
	c.Figures.Set("other_runs", c.FindingCount)
	if c.Status == StatusPass {
		c.Summary = fmt.Sprintf("no printable run of %d+ bytes outside the schema text (%d schema runs) in %s", minLen, allowedRuns, humanBytes(total))
	} else {
		c.Summary = fmt.Sprintf("%d runs of %d+ printable bytes that are not schema text", c.FindingCount, minLen)
	}
	return c
}

func pow(x float64, n int) float64 {
	r := 1.0
	for range n {
		r *= x
	}
	return r
}

// checkLogs runs the log tests on every log file.
func checkLogs(files []*snapFile, dir string, cs *canarySet, win *windowIndex) *Check {
	c := newCheck(CheckLogs, "", "the server's logs hold no canary, no stored envelope or key bytes (raw, hex, base64, quoted or as a byte list) and nothing token-like")
	if dir == "" {
		c.skip("no logs directory given (--logs DIR)")
		return c
	}
	counts := map[string]int{"files": 0, "bytes": 0, "canary_hits": 0, "envelope_byte_hits": 0, "token_like_runs": 0, "decoded_views": 0}
	for _, f := range files {
		if f.Kind == KindCompressed {
			c.fail(Finding{File: "logs/" + f.Path, Message: "a compressed file this tool cannot read inside; decompress it and run again"})
			continue
		}
		if err := checkLogFile(f, cs, win, c, counts); err != nil {
			c.fail(Finding{File: "logs/" + f.Path, Message: "could not be read: " + err.Error()})
		}
	}
	for _, k := range []string{"files", "bytes", "canary_hits", "envelope_byte_hits", "token_like_runs", "decoded_views"} {
		c.Figures.Set(k, counts[k])
	}
	c.Figures.Set("blob_windows_indexed", win.count)
	coverage := "full: every 32-byte window at a 24-byte stride of every stored blob"
	if win.partial {
		coverage = fmt.Sprintf("partial: more than %d windows; later blobs by their first window only", MaxWindows)
	}
	c.Figures.Set("window_coverage", coverage)
	if cs == nil {
		c.Figures.Set("canaries", "none given")
	}
	if counts["files"] == 0 && c.FindingCount == 0 {
		c.fail(Finding{Message: "the logs directory holds no files: point --logs at the server's logs"})
	}
	if c.Status == StatusPass {
		c.Summary = fmt.Sprintf("%d files, %s: no canaries, no envelope bytes (%d windows of %d blobs), no token-like runs",
			counts["files"], humanBytes(int64(counts["bytes"])), win.count, len(win.labels))
	} else {
		c.Summary = fmt.Sprintf("%d findings", c.FindingCount)
	}
	return c
}

// runControls proves the detectors can fire: each is run on input that must be flagged (and
// the χ² test also on input that must not be). If any misses, the run fails: a scanner that
// cannot fail proves nothing by passing.
func runControls(tmp string, cs *canarySet, withLogs bool) *Check {
	c := newCheck(CheckControls, "", "positive controls: each detector finds what it exists to find")
	dir := filepath.Join(tmp, "controls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		c.failf("controls", "could not make the control directory: %v", err)
		return c
	}

	// Canaries: every canary in every encoding, in a file of its own.
	if cs != nil {
		_, missed, err := cs.control(dir)
		switch {
		case err != nil:
			c.failf("canaries", "could not run: %v", err)
		case len(missed) > 0:
			c.failf("canaries", "the scanner missed %d of %d planted (canary, encoding) pairs: %s", len(missed), cs.total, strings.Join(missed[:min(10, len(missed))], ", "))
		}
		c.Figures.Set("canary_patterns_found", fmt.Sprintf("%d/%d", cs.total-len(missed), cs.total))
	} else {
		c.Figures.Set("canary_patterns_found", "no canaries given")
	}

	// χ²: 1 KiB of entry JSON must fail, 1 KiB of keystream-like bytes must pass.
	text := []byte(strings.Repeat(`{"v":1,"kind":"journal","body":{"title":"Tuesday","text":"Felt calmer after the walk."}}`, 12))[:1024]
	noise := make([]byte, 1024)
	rng := rand.NewChaCha8([32]byte{'i', 'n', 't', 'e', 'r', 'l', 'u', 'd', 'e'})
	rng.Read(noise)
	xt, xn := chiSquare(text), chiSquare(noise)
	if xt <= ChiSquareThreshold {
		c.failf("chi2", "1 KiB of JSON scored %.0f, not above the threshold %v", xt, ChiSquareThreshold)
	}
	if xn > ChiSquareThreshold {
		c.failf("chi2", "1 KiB of ChaCha8 output scored %.0f, above the threshold %v", xn, ChiSquareThreshold)
	}
	c.Figures.Set("chi2_json_1k", round1(xt))
	c.Figures.Set("chi2_random_1k", round1(xn))

	// Padding: the bucket rule refuses an off-bucket length and accepts bucket lengths.
	if !isPaddedLength(1024) || !isPaddedLength(1088) || isPaddedLength(1025) || isPaddedLength(1000) {
		c.failf("sizes", "the padding-bucket rule is wrong")
	}

	// Printable text: a sentence between random bytes must be found; schema text must not.
	sentence := []byte("I told my therapist about the panic attack on the train")
	var buf []byte
	buf = append(buf, noise[:200]...)
	buf = append(buf, sentence...)
	buf = append(buf, noise[200:400]...)
	buf = append(buf, []byte("    envelope      BLOB    -- opaque-blob: signed, encrypted entry")...)
	buf = append(buf, noise[400:600]...)
	path := filepath.Join(dir, "plaintext-control.bin")
	found, flagged := false, 0
	allow := newTextAllow([]schemaObject{{Type: "table", Name: "records", Table: "records", SQL: "CREATE TABLE records (\n    envelope      BLOB    -- opaque-blob: signed, encrypted entry\n)"}})
	if err := os.WriteFile(path, buf, 0o600); err == nil {
		scanPrintableFile(path, minPrintableFloor, allow, func(r printableRun) {
			flagged++
			if strings.Contains(string(r.text), string(sentence)) {
				found = true
			}
		})
	}
	if !found || flagged != 1 {
		c.failf("plaintext", "the printable-text scanner flagged %d runs, want exactly the planted sentence", flagged)
	}
	c.Figures.Set("plaintext_sentence_found", found)

	// Logs: a planted token, and an envelope window as base64 and hex, must be flagged.
	if withLogs {
		blob := noise[:300]
		w := newWindowIndex()
		w.add("control blob", blob)
		line := fmt.Sprintf("time=x level=INFO msg=push token=%s body=%s dump=%x\n",
			"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u", b64(blob[:90]), blob[120:200])
		views := decodedViews([]byte(line))
		hits := map[string]bool{}
		for _, v := range views {
			w.find(v.data, func(int, string, int) { hits[v.how] = true })
		}
		tokens := len(tokenRuns([]byte(line)))
		if !hits["base64"] || !hits["hex"] || tokens < 3 {
			c.failf("logs", "the log scanner found envelope bytes as base64 %v, hex %v, and %d token-like runs (want true, true, ≥3)", hits["base64"], hits["hex"], tokens)
		}
		c.Figures.Set("log_envelope_bytes_found", map[string]bool{"base64": hits["base64"], "hex": hits["hex"]})
		c.Figures.Set("log_token_runs_found", tokens)
	}
	if c.Status == StatusPass {
		c.Summary = "every detector fired on its planted input"
		if cs != nil {
			c.Summary += fmt.Sprintf(" (canaries: %d/%d patterns found in the control file)", cs.total, cs.total)
		}
	}
	return c
}
