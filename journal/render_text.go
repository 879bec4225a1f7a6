package journal

import (
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxChartColumns is the widest sparkline drawn; longer ranges are averaged
// into buckets of several days.
const maxChartColumns = 60

var sparkGlyphs = []rune("▁▂▃▄▅▆▇█")

// RenderTerminalChart writes a plain-text report: sparklines of daily mood and
// anxiety, a table of daily scores with bars, and the associations, measures,
// streaks and homework. It uses no colour or escape codes, and folds user
// text onto one line.
func RenderTerminalChart(w io.Writer, r TrendReport) error {
	ew := &errWriter{w: w}
	ew.printf("Mood and anxiety, %s to %s (daily mean, 0–10)\n", r.From, r.To)
	if len(r.Days) == 0 {
		ew.printf("No check-ins in this period.\n")
	} else {
		renderSparklines(ew, r.Days)
		ew.printf("\n%-10s  %-16s  %-16s  %-6s  %s\n", "day", "mood", "anxiety", "energy", "check-ins")
		for _, d := range r.Days {
			ew.printf("%-10s  %s  %s  %-6s  %d\n", d.Day, barCell(&d.Mood), barCell(d.Anxiety), numberCell(d.Energy), d.Checkins)
		}
	}

	renderAssociations(ew, "Triggers", "trigger", r.Triggers)
	renderAssociations(ew, "Coping skills", "skill", r.Coping)

	if len(r.Measures) > 0 {
		ew.printf("\nMeasures\n")
	}
	for _, m := range r.Measures {
		ew.printf("  %s\n", m.Name)
		for _, p := range m.Points {
			flag := ""
			if p.Result.SafetyFlag {
				flag = "  ! item 9 above zero: see crisis resources"
			}
			ew.printf("    %s  %-22s %s%s\n", p.Day, scoreText(p.Result), bar(float64(p.Result.Value()), float64(maxValue(m)), 20), flag)
		}
	}

	ew.printf("\nStreaks: current %d %s, longest %d, %d days with a check-in\n",
		r.Streaks.Current, plural(r.Streaks.Current, "day", "days"), r.Streaks.Longest, r.Streaks.CheckinDays)
	h := r.Homework
	ew.printf("Homework: %d assigned, %d submitted (%d responses), %d in progress, %d not started\n",
		h.Assigned, h.Submitted, h.Responses, h.InProgress, h.NotStarted)
	return ew.err
}

func maxValue(m MeasureSeries) int {
	if m.PercentScale {
		return 100
	}
	return m.MaxTotal
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func renderSparklines(ew *errWriter, days []DayScores) {
	first, last := days[0].Day, days[len(days)-1].Day
	span := daysBetween(first, last) + 1
	bucket := (span + maxChartColumns - 1) / maxChartColumns
	cols := (span + bucket - 1) / bucket
	type acc struct{ sum, n float64 }
	mood, anxiety := make([]acc, cols), make([]acc, cols)
	for _, d := range days {
		c := max(0, min(cols-1, daysBetween(first, d.Day)/bucket))
		mood[c].sum += d.Mood
		mood[c].n++
		if d.Anxiety != nil {
			anxiety[c].sum += *d.Anxiety
			anxiety[c].n++
		}
	}
	line := func(name string, a []acc) {
		var b strings.Builder
		for _, x := range a {
			if x.n == 0 {
				b.WriteRune('·')
				continue
			}
			v := x.sum / x.n
			i := int(math.Round(v / scaleMax * float64(len(sparkGlyphs)-1)))
			b.WriteRune(sparkGlyphs[max(0, min(i, len(sparkGlyphs)-1))])
		}
		ew.printf("%-8s %s\n", name, b.String())
	}
	line("mood", mood)
	line("anxiety", anxiety)
	gap := max(1, cols-len(string(first))-len(string(last)))
	if cols < len(first)+len(last)+1 {
		ew.printf("%-8s %s → %s\n", "", first, last)
	} else {
		ew.printf("%-8s %s%s%s\n", "", first, strings.Repeat(" ", gap), last)
	}
	unit := "1 day"
	if bucket > 1 {
		unit = strconv.Itoa(bucket) + " days (averaged)"
	}
	ew.printf("%-8s each column is %s; · means no check-in; ▁ is 0, █ is 10\n", "", unit)
}

// barCell is "4.5 ####·" padded to 16 columns, or "-" when v is nil.
func barCell(v *float64) string {
	if v == nil {
		return pad("-", 16)
	}
	return pad(formatScore(*v)+" "+bar(*v, scaleMax, 10), 16)
}

func numberCell(v *float64) string {
	if v == nil {
		return "-"
	}
	return formatScore(*v)
}

func formatScore(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// formatFloat formats v with one decimal, never as "-0.0".
func formatFloat(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // drop the sign of negative zero
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// bar draws v out of full as up to width '#' characters.
func bar(v, full float64, width int) string {
	if full <= 0 {
		return ""
	}
	n := int(math.Round(v / full * float64(width)))
	return strings.Repeat("#", max(0, min(width, n)))
}

// pad truncates s to n runes (with …) and pads it with spaces to n runes.
func pad(s string, n int) string {
	c := utf8.RuneCountInString(s)
	if c > n {
		return string([]rune(s)[:n-1]) + "…"
	}
	return s + strings.Repeat(" ", n-c)
}

func renderAssociations(ew *errWriter, title, what string, as []Association) {
	ew.printf("\n%s and mood (mean daily mood on days with vs without; items on %d+ days)\n", title, MinAssociationDays)
	if len(as) == 0 {
		ew.printf("  Not enough check-ins yet to compare.\n")
		return
	}
	ew.printf("  %s  %-15s  %-15s  %s\n", pad(what, 24), "with (days)", "without (days)", "difference")
	for _, a := range as {
		ew.printf("  %s  %-15s  %-15s  %s", pad(oneLine(a.Name), 24),
			formatFloat(a.MoodWith)+" ("+strconv.Itoa(a.DaysWith)+")",
			formatFloat(a.MoodWithout)+" ("+strconv.Itoa(a.DaysWithout)+")",
			signed(a.Difference))
		if a.HelpedYes+a.HelpedSomewhat+a.HelpedNo > 0 {
			ew.printf("   helped: yes %d, somewhat %d, no %d", a.HelpedYes, a.HelpedSomewhat, a.HelpedNo)
		}
		ew.printf("\n")
	}
}

func signed(v float64) string {
	if math.Round(v*10) > 0 {
		return "+" + formatFloat(v)
	}
	return formatFloat(v)
}
