package journal_test

import (
	"fmt"
	"time"

	"interlude/journal"
)

func ExampleScore() {
	r, err := journal.Score("phq9", []int{1, 2, 1, 2, 1, 2, 1, 1, 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r)
	if r.SafetyFlag {
		// Show crisis resources at once, on the device.
		fmt.Println(journal.DefaultCrisisResources().Lookup("en-CA").Lines[0].Name)
	}
	// Output:
	// PHQ-9 12/27 (moderate)
	// 9-8-8 Suicide Crisis Helpline
}

func ExampleBuild() {
	// interlude add checkin --mood 4 --anxiety 6 --emotions sad,tired --triggers work --coping walk:yes
	e, err := journal.Build("checkin", map[string]string{
		"mood": "4", "anxiety": "6", "emotions": "sad,tired", "triggers": "work", "coping": "walk:yes",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	e.Touch(time.Date(2026, 3, 2, 21, 14, 0, 0, time.FixedZone("", -5*3600)))
	b, _ := journal.Marshal(e)
	fmt.Println(string(b))

	_, err = journal.Build("phq9", map[string]string{"answers": "1,2,1,2,1,2,1,1"})
	fmt.Println(err)
	// Output:
	// {"v":1,"kind":"checkin","created":"2026-03-02T21:14:00-05:00","updated":"2026-03-02T21:14:00-05:00","body":{"mood":4,"anxiety":6,"emotions":["sad","tired"],"triggers":["work"],"coping":[{"skill":"walk","helped":"yes"}]}}
	// --answers: has 8 answers; PHQ-9 needs exactly 9, one per item, each allowed 0–3
}

func ExampleEntry_ScoresOnly() {
	e, _ := journal.Build("checkin", map[string]string{"mood": "3", "note": "argument with my brother", "triggers": "family"})
	e.Touch(time.Date(2026, 3, 2, 21, 0, 0, 0, time.UTC))
	shared, ok := e.ScoresOnly()
	b, _ := journal.Marshal(shared)
	fmt.Println(ok, string(b))
	// Output:
	// true {"v":1,"kind":"checkin","created":"2026-03-02T21:00:00Z","updated":"2026-03-02T21:00:00Z","body":{"mood":3}}
}
