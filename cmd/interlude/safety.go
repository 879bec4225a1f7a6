package main

// Crisis resources: shown at once, on this device, when a PHQ-9's item 9 (thoughts of being
// better off dead or of self-harm) is answered above "Not at all". Nothing is sent anywhere.

import (
	"os"
	"path/filepath"
	"strings"

	"interlude/journal"
)

// crisisFile is the optional file in the profile directory that replaces or adds crisis
// resources per locale (format: journal.LoadCrisisResources, docs/journal.md), so that a
// clinic or distributor can give its own numbers.
const crisisFile = "crisis.json"

// crisisResources returns the built-in crisis resources, overlaid with crisis.json from the
// profile directory when there is one. A file that cannot be read never hides the
// resources: the built-in ones are used and the problem is reported.
func (c *cli) crisisResources() *journal.CrisisResources {
	home, err := c.homeDir()
	if err != nil {
		return journal.DefaultCrisisResources()
	}
	path := filepath.Join(home, crisisFile)
	f, err := os.Open(path)
	if err != nil {
		if !os.IsNotExist(err) {
			c.note("interlude: cannot read %s (%v); showing the built-in crisis resources", path, err)
		}
		return journal.DefaultCrisisResources()
	}
	defer f.Close()
	res, err := journal.LoadCrisisResources(f)
	if err != nil {
		c.note("interlude: %s: %v; showing the built-in crisis resources", path, err)
		return journal.DefaultCrisisResources()
	}
	return res
}

// locale is the person's locale from LC_ALL, else LANG ("en_CA.UTF-8" → "en-CA").
func (c *cli) locale() string {
	l := c.getenv("LC_ALL")
	if l == "" {
		l = c.getenv("LANG")
	}
	l, _, _ = strings.Cut(l, ".")
	l, _, _ = strings.Cut(l, "@")
	return strings.ReplaceAll(l, "_", "-")
}

// measureIn returns the measure an entry holds: its body, or the answer of a homework
// response (submitted or still in progress); nil if none.
func measureIn(e *journal.Entry) *journal.Measure {
	body := e.Body
	if r, ok := body.(*journal.Response); ok && r != nil {
		body = r.Answer
	}
	m, _ := body.(*journal.Measure)
	return m
}
