package crypto

import (
	"fmt"
	"io"
	"log/slog"
)

// Every secret type implements fmt.Formatter, fmt.Stringer, fmt.GoStringer and
// slog.LogValuer with these helpers. Implementing Formatter matters most: it
// takes over every verb (%v %+v %#v %s %x %d ...), so no verb can reach the
// bytes, and it is also used when the secret is a field of a printed struct.
func redactedName(typeName string) string { return "crypto." + typeName + "(REDACTED)" }

func writeRedacted(f fmt.State, typeName string) { _, _ = io.WriteString(f, redactedName(typeName)) }

func redactedLog(typeName string) slog.Value { return slog.StringValue(redactedName(typeName)) }
