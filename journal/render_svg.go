package journal

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// SVG layout, in pixels.
const (
	svgWidth       = 760
	svgLeft        = 56
	svgRight       = 150 // room for band names and the legend
	svgPlotWidth   = svgWidth - svgLeft - svgRight
	svgTitleHeight = 40
	svgMoodHeight  = 200
	svgPanelGap    = 56
	svgTextLine    = 18
	svgMeasureH    = 140
)

var (
	seriesColour = map[string]string{"mood": "#1f5fa8", "anxiety": "#b3261e", "energy": "#2e7d32"}
	seriesDash   = map[string]string{"mood": "", "anxiety": "6 4", "energy": "2 3"}
	// Band fills from least to most concern.
	bandFills = []string{"#e8f5e9", "#f9fbe7", "#fff8e1", "#ffe0b2", "#ffcdd2"}
)

// RenderSVG writes a standalone SVG image of the report: a line chart of
// daily mood and anxiety, what goes with better and worse days, and each
// measure's scores over its bands. All user text is escaped. Series carry a
// data-series attribute and each point is a <circle>, so the output can be
// checked by machine.
func RenderSVG(w io.Writer, r TrendReport) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	writeSVG(&buf, r)
	_, err := w.Write(buf.Bytes())
	return err
}

// svgBuilder writes SVG elements with escaped text.
type svgBuilder struct{ b *bytes.Buffer }

func (s svgBuilder) raw(format string, args ...any) { fmt.Fprintf(s.b, format, args...) }

func (s svgBuilder) text(x, y float64, attrs, content string) {
	s.raw(`<text x="%.1f" y="%.1f"%s>%s</text>`+"\n", x, y, attrs, esc(content))
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeSVG(buf *bytes.Buffer, r TrendReport) {
	s := svgBuilder{buf}
	associations := associationLines(r)
	height := svgTitleHeight + svgMoodHeight + svgPanelGap + len(associations)*svgTextLine + 16
	for range r.Measures {
		height += svgMeasureH + svgPanelGap
	}
	title := fmt.Sprintf("Mood and anxiety, %s to %s", r.From, r.To)
	s.raw(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-title chart-desc" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	s.raw(`<title id="chart-title">%s</title>`+"\n", esc(title))
	s.raw(`<desc id="chart-desc">%s</desc>`+"\n", esc(fmt.Sprintf("Daily mean mood and anxiety (0–10) from %d days with check-ins, and %d measures over time.", len(r.Days), len(r.Measures))))
	s.raw(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	s.text(svgLeft, 24, ` font-size="16" font-weight="bold"`, title)

	span := daysBetween(r.From, r.To) + 1
	if span < 1 {
		span = 1
	}
	x := func(d Day) float64 {
		return svgLeft + (float64(daysBetween(r.From, d))+0.5)/float64(span)*svgPlotWidth
	}

	// Mood and anxiety panel.
	top := float64(svgTitleHeight)
	y := func(v float64) float64 { return top + svgMoodHeight - v/scaleMax*svgMoodHeight }
	s.raw(`<g class="panel" id="mood-anxiety">` + "\n")
	for v := 0; v <= scaleMax; v += 2 {
		s.raw(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`+"\n", svgLeft, y(float64(v)), svgLeft+svgPlotWidth, y(float64(v)))
		s.text(svgLeft-8, y(float64(v))+4, ` text-anchor="end"`, fmt.Sprint(v))
	}
	axes(s, top, svgMoodHeight, r.From, r.To, "score (0–10)")
	if len(r.Days) == 0 {
		s.text(svgLeft+svgPlotWidth/2, top+svgMoodHeight/2, ` text-anchor="middle" fill="#555555"`, "No check-ins in this period")
	}
	for i, name := range []string{"mood", "anxiety"} {
		var pts [][2]float64
		var days []Day
		var vals []float64
		for _, d := range r.Days {
			v := &d.Mood
			if name == "anxiety" {
				v = d.Anxiety
			}
			if v == nil {
				continue
			}
			pts = append(pts, [2]float64{x(d.Day), y(*v)})
			days = append(days, d.Day)
			vals = append(vals, *v)
		}
		series(s, name, seriesColour[name], seriesDash[name], pts, days, func(j int) string {
			return fmt.Sprintf("%s %s %s", days[j], name, formatScore(vals[j]))
		})
		// Legend, with dash patterns so it reads without colour.
		ly := top + 12 + float64(i)*svgTextLine
		lx := float64(svgLeft + svgPlotWidth + 16)
		s.raw(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", lx, ly-4, lx+24, ly-4, seriesColour[name], dashOrNone(seriesDash[name]))
		s.text(lx+30, ly, "", name)
	}
	s.raw("</g>\n")

	// What goes with better and worse days.
	ty := top + svgMoodHeight + svgPanelGap
	s.raw(`<g class="panel" id="associations">` + "\n")
	for _, line := range associations {
		s.text(svgLeft, ty, "", line)
		ty += svgTextLine
	}
	s.raw("</g>\n")

	// One panel per measure, with its bands behind the scores.
	ptop := ty + 16
	for _, m := range r.Measures {
		full := float64(maxValue(m))
		my := func(v float64) float64 { return ptop + svgMeasureH - v/full*svgMeasureH }
		scale := 1.0
		if m.PercentScale {
			scale = 4
		}
		s.raw(`<g class="panel measure" id="measure-%s">`+"\n", esc(m.Measure))
		unit := fmt.Sprintf("0–%d", m.MaxTotal)
		if m.PercentScale {
			unit = "0–100 %"
		}
		s.text(svgLeft, ptop-10, ` font-weight="bold"`, fmt.Sprintf("%s (%s)", m.Name, unit))
		for i, b := range m.Bands {
			lo := float64(b.Min) * scale
			hi := min(full, float64(b.Max+1)*scale)
			if i == len(m.Bands)-1 {
				hi = full
			}
			s.raw(`<rect class="band" x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
				svgLeft, my(hi), svgPlotWidth, my(lo)-my(hi), bandFill(i, len(m.Bands), m.HigherIsBetter), esc(bandRange(b, m.PercentScale)))
			s.text(svgLeft+svgPlotWidth+8, (my(lo)+my(hi))/2+4, ` fill="#333333"`, b.Name)
		}
		axes(s, ptop, svgMeasureH, r.From, r.To, "score")
		s.text(svgLeft-8, my(0)+4, ` text-anchor="end"`, "0")
		s.text(svgLeft-8, my(full)+4, ` text-anchor="end"`, fmt.Sprint(maxValue(m)))
		var pts [][2]float64
		var days []Day
		for _, p := range m.Points {
			pts = append(pts, [2]float64{x(p.Day), my(float64(p.Result.Value()))})
			days = append(days, p.Day)
		}
		series(s, "measure-"+m.Measure, "#333333", "", pts, days, func(j int) string {
			t := fmt.Sprintf("%s %s %s", m.Points[j].Day, m.Name, scoreText(m.Points[j].Result))
			if m.Points[j].Result.SafetyFlag {
				t += "; item 9 above zero"
			}
			return t
		})
		s.raw("</g>\n")
		ptop += svgMeasureH + svgPanelGap
	}
	s.raw("</svg>\n")
}

func dashOrNone(d string) string {
	if d == "" {
		return "none"
	}
	return d
}

func bandFill(i, n int, higherIsBetter bool) string {
	if n <= 1 {
		return bandFills[0]
	}
	concern := i
	if higherIsBetter {
		concern = n - 1 - i
	}
	return bandFills[concern*(len(bandFills)-1)/(n-1)]
}

func bandRange(b Band, percent bool) string {
	if percent {
		return fmt.Sprintf("%s: %d–%d %%", b.Name, b.Min*4, b.Max*4)
	}
	return fmt.Sprintf("%s: %d–%d", b.Name, b.Min, b.Max)
}

// axes draws the x and y axes of a panel with date labels and a y title.
func axes(s svgBuilder, top, height float64, from, to Day, yTitle string) {
	bottom := top + height
	s.raw(`<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000000"/>`+"\n", svgLeft, bottom, svgLeft+svgPlotWidth, bottom)
	s.raw(`<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000000"/>`+"\n", svgLeft, top, svgLeft, bottom)
	s.text(svgLeft, bottom+16, "", string(from))
	s.text(svgLeft+svgPlotWidth, bottom+16, ` text-anchor="end"`, string(to))
	s.text(svgLeft+svgPlotWidth/2, bottom+16, ` text-anchor="middle" fill="#555555"`, "day")
	s.raw(`<text x="14" y="%.1f" text-anchor="middle" transform="rotate(-90 14 %.1f)" fill="#555555">%s</text>`+"\n", top+height/2, top+height/2, esc(yTitle))
}

// series draws one data series: a path broken at gaps of more than a day,
// and a circle per point.
func series(s svgBuilder, name, colour, dash string, pts [][2]float64, days []Day, label func(int) string) {
	s.raw(`<g class="series" data-series="%s">`+"\n", esc(name))
	if len(pts) > 1 {
		var d strings.Builder
		for i, p := range pts {
			cmd := "L"
			if i == 0 || daysBetween(days[i-1], days[i]) > 1 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, p[0], p[1])
		}
		s.raw(`<path d="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", strings.TrimSpace(d.String()), colour, dashOrNone(dash))
	}
	for i, p := range pts {
		s.raw(`<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>`+"\n", p[0], p[1], colour, esc(label(i)))
	}
	s.raw("</g>\n")
}

// associationLines describes the strongest associations in a few lines.
func associationLines(r TrendReport) []string {
	lines := []string{fmt.Sprintf("What goes with better or worse days (mean daily mood with vs without; items on %d+ days):", MinAssociationDays)}
	add := func(kind string, as []Association) {
		for i, a := range as {
			if i == 5 {
				break
			}
			lines = append(lines, fmt.Sprintf("  %s “%s”: %s vs %s on %d days (%s)", kind, oneLine(a.Name), formatFloat(a.MoodWith), formatFloat(a.MoodWithout), a.DaysWith, signed(a.Difference)))
		}
	}
	add("trigger", r.Triggers)
	add("coping", r.Coping)
	if len(lines) == 1 {
		lines = append(lines, "  Not enough check-ins yet to compare.")
	}
	return lines
}
