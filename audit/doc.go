// Package audit holds the checks behind interlude-audit: given a copy of the server's data
// directory (and, optionally, its logs and canary strings an auditor wrote on a client), it
// verifies from the raw files, without any key, that the server holds ciphertext only.
//
// Run copies every file into a private snapshot first and reads only the copies; SQLite
// databases are opened read-only and immutable (a write-ahead log is folded in on a further
// private copy). The checks, each reported with pass, fail or skip and its figures:
//
//	controls    positive controls: every detector fires on planted input
//	schema      tables, columns, indexes, triggers, views against the embedded allow-list
//	columns     every value fits its column's class; derived columns match
//	envelopes   every blob parses under the v1 formats; ciphertext passes a χ² test
//	sizes       envelope lengths sit on the Padmé buckets
//	uniqueness  no nonce, ciphertext, HPKE encapsulation or salt repeats
//	signatures  bundles, envelopes and grants verify and agree with their rows
//	time        coarse times are on their unit; record IDs carry only a UTC day
//	canaries    no canary, in any of its encodings, in any byte of any file
//	plaintext   no printable run other than schema text in any file
//	logs        no canary, envelope bytes or token-like run in the server's logs
//
// docs/audit.md says what each check proves and what it cannot, the thresholds and their
// false-alarm rates, and the JSON report format.
package audit
