// Package archtest holds tests that guard Interlude's architecture: import arrows point
// one way (docs/architecture.md) and every package has a doc comment. It has no code.
package archtest
