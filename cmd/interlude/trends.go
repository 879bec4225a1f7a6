package main

import (
	"fmt"
	"io"
	"time"

	"interlude/client"
	"interlude/journal"
)

// defaultTrendDays is the range trends covers when --since is not given.
const defaultTrendDays = 30

func cmdTrends(c *cli, args []string) error {
	fs := c.flags("trends")
	since := fs.String("since", "", fmt.Sprintf("first day, YYYY-MM-DD (default: the %d days up to --until)", defaultTrendDays))
	until := fs.String("until", "", "last day, YYYY-MM-DD (default: today)")
	svgPath := fs.String("svg", "", "write the chart as an SVG image to this new file (0600) instead of printing it")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	now := c.now()
	to, err := dayFlag("until", *until, journal.DayOf(now))
	if err != nil {
		return err
	}
	from, err := dayFlag("since", *since, to.AddDays(-(defaultTrendDays - 1)))
	if err != nil {
		return err
	}
	if from > to {
		return usageErr("--since %s is after --until %s", from, to)
	}
	cl, err := c.openUnlocked()
	if err != nil {
		return err
	}
	defer cl.Close()
	entries, unreadable, err := c.trendEntries(cl)
	if err != nil {
		return err
	}
	c.noteUnreadable(unreadable)
	loc := now.Location()
	r := journal.Trends(entries, from.Time(loc), to.Time(loc))

	if *svgPath != "" {
		f, err := createPrivate(*svgPath)
		if err != nil {
			return err
		}
		defer f.Discard()
		if err := journal.RenderSVG(f, r); err != nil {
			return fmt.Errorf("write %s: %w", *svgPath, err)
		}
		if err := f.Keep(); err != nil {
			return fmt.Errorf("write %s: %w", *svgPath, err)
		}
		c.note("Wrote the chart for %s to %s to %s: open it in a web browser or image viewer. It is NOT encrypted: keep it private, and delete it when you no longer need it.",
			r.From, r.To, *svgPath)
		if !c.json {
			return nil
		}
	}
	return c.out(trendsToJSON(r), func(w io.Writer) {
		if err := journal.RenderTerminalChart(w, r); err != nil {
			return
		}
		if flagged(r) {
			fmt.Fprintf(w, "\nA PHQ-9 in this period has item 9 (thoughts of being better off dead or of hurting yourself) above \"Not at all\".\n%s",
				c.crisisResources().Lookup(c.locale()).Text())
		}
	})
}

// flagged reports whether any measure in r has its safety item above zero.
func flagged(r journal.TrendReport) bool {
	for _, m := range r.Measures {
		for _, p := range m.Points {
			if p.Result.SafetyFlag {
				return true
			}
		}
	}
	return false
}

// The JSON form of `interlude trends --json`. Scores are unrounded means; days are the
// entries' own local days.
type trendsJSON struct {
	From     string            `json:"from"`
	To       string            `json:"to"`
	Days     []dayScoresJSON   `json:"days"`
	Triggers []associationJSON `json:"triggers"`
	Coping   []associationJSON `json:"coping"`
	Measures []seriesJSON      `json:"measures"`
	Streaks  streaksJSON       `json:"streaks"`
	Homework homeworkJSON      `json:"homework"`
}

type dayScoresJSON struct {
	Day      string   `json:"day"`
	Checkins int      `json:"checkins"`
	Mood     float64  `json:"mood"`
	Anxiety  *float64 `json:"anxiety"`
	Energy   *float64 `json:"energy"`
}

type associationJSON struct {
	Name        string  `json:"name"`
	DaysWith    int     `json:"days_with"`
	DaysWithout int     `json:"days_without"`
	MoodWith    float64 `json:"mood_with"`
	MoodWithout float64 `json:"mood_without"`
	Difference  float64 `json:"difference"`
	HelpedYes   *int    `json:"helped_yes,omitempty"`
	HelpedSome  *int    `json:"helped_somewhat,omitempty"`
	HelpedNo    *int    `json:"helped_no,omitempty"`
}

type bandJSON struct {
	Name string `json:"name"`
	Min  int    `json:"min"`
	Max  int    `json:"max"`
}

type seriesJSON struct {
	Measure        string      `json:"measure"`
	Name           string      `json:"name"`
	MaxTotal       int         `json:"max_total"`
	PercentScale   bool        `json:"percent_scale"`
	HigherIsBetter bool        `json:"higher_is_better"`
	Bands          []bandJSON  `json:"bands"`
	Points         []pointJSON `json:"points"`
}

// pointJSON is one scored measure.
type pointJSON struct {
	Day     string `json:"day"`
	At      string `json:"at"`
	Measure string `json:"measure"`
	Total   int    `json:"total"`
	Percent *int   `json:"percent,omitempty"` // WHO-5 only
	Band    string `json:"band"`
	// Item9 is true when PHQ-9 item 9 was answered above zero.
	Item9 bool `json:"item9_flag"`
}

type streaksJSON struct {
	Current     int `json:"current"`
	Longest     int `json:"longest"`
	CheckinDays int `json:"checkin_days"`
}

type homeworkJSON struct {
	Assigned   int     `json:"assigned"`
	Submitted  int     `json:"submitted"`
	InProgress int     `json:"in_progress"`
	NotStarted int     `json:"not_started"`
	Responses  int     `json:"responses"`
	Rate       float64 `json:"completion_rate"`
}

func trendsToJSON(r journal.TrendReport) trendsJSON {
	j := trendsJSON{From: string(r.From), To: string(r.To), Days: []dayScoresJSON{},
		Triggers: associationsJSON(r.Triggers, false), Coping: associationsJSON(r.Coping, true),
		Measures: []seriesJSON{},
		Streaks:  streaksJSON{r.Streaks.Current, r.Streaks.Longest, r.Streaks.CheckinDays},
		Homework: homeworkJSON{r.Homework.Assigned, r.Homework.Submitted, r.Homework.InProgress,
			r.Homework.NotStarted, r.Homework.Responses, r.Homework.Rate()},
	}
	for _, d := range r.Days {
		j.Days = append(j.Days, dayScoresJSON{string(d.Day), d.Checkins, d.Mood, d.Anxiety, d.Energy})
	}
	for _, m := range r.Measures {
		s := seriesJSON{Measure: m.Measure, Name: m.Name, MaxTotal: m.MaxTotal, PercentScale: m.PercentScale,
			HigherIsBetter: m.HigherIsBetter, Bands: []bandJSON{}, Points: []pointJSON{}}
		for _, b := range m.Bands {
			s.Bands = append(s.Bands, bandJSON{b.Name, b.Min, b.Max})
		}
		for _, p := range m.Points {
			s.Points = append(s.Points, pointToJSON(p))
		}
		j.Measures = append(j.Measures, s)
	}
	return j
}

func pointToJSON(p journal.MeasurePoint) pointJSON {
	pj := pointJSON{Day: string(p.Day), At: p.At.Format(time.RFC3339), Measure: p.Result.Measure,
		Total: p.Result.Total, Band: p.Result.Band.Name, Item9: p.Result.SafetyFlag}
	if p.Result.HasPercent {
		pj.Percent = new(p.Result.Percent)
	}
	return pj
}

func associationsJSON(as []journal.Association, coping bool) []associationJSON {
	out := []associationJSON{}
	for _, a := range as {
		aj := associationJSON{Name: a.Name, DaysWith: a.DaysWith, DaysWithout: a.DaysWithout,
			MoodWith: a.MoodWith, MoodWithout: a.MoodWithout, Difference: a.Difference}
		if coping {
			aj.HelpedYes, aj.HelpedSome, aj.HelpedNo = new(a.HelpedYes), new(a.HelpedSomewhat), new(a.HelpedNo)
		}
		out = append(out, aj)
	}
	return out
}

// trendEntries are the entries trends counts: the account's own, and the assignments its
// clinicians shared with it, which its responses answer.
func (c *cli) trendEntries(cl *client.Client) ([]*journal.Entry, int, error) {
	entries, unreadable, err := ownEntries(c.ctx, cl)
	if err != nil {
		return nil, 0, err
	}
	contacts, err := cl.Contacts(c.ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, ct := range contacts {
		if ct.Role != client.RoleClinician {
			continue
		}
		shared, err := cl.ListFrom(c.ctx, ct.Account, client.ListFilter{})
		if err != nil {
			return nil, 0, err
		}
		js, _ := journalEntries(shared)
		for _, e := range js {
			if _, ok := e.Body.(*journal.Assignment); ok {
				entries = append(entries, e)
			}
		}
	}
	return entries, unreadable, nil
}
