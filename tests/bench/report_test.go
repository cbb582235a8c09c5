package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Row is one measured quantity of one tool in one scenario: every run's
// value and their median. Rate, when set, is derived from the median time
// (bytes or files over seconds).
type Row struct {
	Scenario string    `json:"scenario"`
	Tool     string    `json:"tool"`
	Metric   string    `json:"metric"`
	Unit     string    `json:"unit"`
	Runs     []float64 `json:"runs"`
	Median   float64   `json:"median"`
	Rate     float64   `json:"rate,omitempty"`
	RateUnit string    `json:"rate_unit,omitempty"`
	// Speedup is the peer's median time over GenesisSync's in the same
	// scenario (above 1: GenesisSync is faster); only on peer rows.
	Speedup float64 `json:"genesissync_speedup,omitempty"`
	Note    string  `json:"note,omitempty"`
}

// CPURow is the CPU time a scenario's runs took, per tool, split into
// MinIO's process and the rest of the machine (the tool, smbd, the
// kernel's network and page cache work): which side of the wire a
// scenario is bound by on two shared cores.
type CPURow struct {
	Scenario    string    `json:"scenario"`
	Tool        string    `json:"tool"`
	MinIO       []float64 `json:"minio_cpu_seconds"`
	Other       []float64 `json:"other_cpu_seconds"`
	MinIOMedian float64   `json:"minio_cpu_median"`
	OtherMedian float64   `json:"other_cpu_median"`
	TotalMedian float64   `json:"total_cpu_median"` // of each run's sum
}

// Target is one of issue 9's targets, judged from this run.
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
	// NotJudged marks a figure measured under other conditions than the
	// target's (Met is then false and meaningless).
	NotJudged bool `json:"not_judged,omitempty"`
}

// Report is what one `task bench` run prints and writes as JSON.
type Report struct {
	Started  time.Time         `json:"started"`
	Took     string            `json:"took"`
	Scale    float64           `json:"scale"`
	Rounds   int               `json:"rounds"`
	Machine  map[string]string `json:"machine"`
	Tools    map[string]string `json:"tools"`
	Rows     []Row             `json:"rows"`
	CPU      []CPURow          `json:"cpu"`
	Targets  []Target          `json:"targets"`
	Notes    []string          `json:"notes"`
	Problems []string          `json:"problems,omitempty"`
}

// add appends a row of durations (seconds) with an optional rate from
// amount per second of the median, and returns it for further fields.
func (r *Report) add(scenario, tool string, ds []float64, amount float64, rateUnit string) *Row {
	row := Row{Scenario: scenario, Tool: tool, Metric: "time", Unit: "s", Runs: ds, Median: median(ds)}
	if amount > 0 {
		row.Rate, row.RateUnit = amount/row.Median, rateUnit
	}
	r.Rows = append(r.Rows, row)
	return &r.Rows[len(r.Rows)-1]
}

// value appends a single-valued row (a percentile, a size, a rate).
func (r *Report) value(scenario, tool, metric, unit string, v float64, note string) {
	r.Rows = append(r.Rows, Row{Scenario: scenario, Tool: tool, Metric: metric, Unit: unit, Runs: []float64{v}, Median: v, Note: note})
}

// cpu appends a CPU row.
func (r *Report) cpu(scenario, tool string, minio, other []float64) {
	total := make([]float64, len(minio))
	for i := range minio {
		total[i] = minio[i] + other[i]
	}
	r.CPU = append(r.CPU, CPURow{Scenario: scenario, Tool: tool, MinIO: minio, Other: other,
		MinIOMedian: median(minio), OtherMedian: median(other), TotalMedian: median(total)})
}

// find returns the row or nil.
func (r *Report) find(scenario, tool, metric string) *Row {
	for i := range r.Rows {
		if x := &r.Rows[i]; x.Scenario == scenario && x.Tool == tool && x.Metric == metric {
			return x
		}
	}
	return nil
}

// speedups fills Speedup on every peer (not genesissync...) time row from GenesisSync's row
// of the same scenario.
func (r *Report) speedups() {
	for i := range r.Rows {
		x := &r.Rows[i]
		if strings.HasPrefix(x.Tool, toolGS) || x.Metric != "time" {
			continue
		}
		if gs := r.find(x.Scenario, toolGS, "time"); gs != nil && gs.Median > 0 {
			x.Speedup = x.Median / gs.Median
		}
	}
}

// judge adds a target; a target whose inputs are missing (NaN) is not met.
func (r *Report) judge(name, want string, got float64, gotFmt string, met bool) {
	g := fmt.Sprintf(gotFmt, got)
	if math.IsNaN(got) {
		g, met = "not measured", false
	}
	r.Targets = append(r.Targets, Target{Name: name, Want: want, Got: g, Met: met})
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// WriteMarkdown prints the tables as Markdown, for the terminal and the
// README alike.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "\nGenesisSync side-by-side benchmark, %s, scale %g, %d rounds per tool (medians), took %s\n\n",
		r.Started.Format("2006-01-02 15:04 MST"), r.Scale, r.Rounds, r.Took)
	if st, ok := r.Machine["cpu steal during the run"]; ok {
		fmt.Fprintf(w, "CPU time taken by the hypervisor (steal) during the run: %s\n\n", st)
	}
	fmt.Fprintln(w, "| scenario | tool | median | rate | runs | GenesisSync faster by |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, x := range r.Rows {
		runs := make([]string, len(x.Runs))
		for i, v := range x.Runs {
			runs[i] = num(v)
		}
		rate, speed := "", ""
		if x.RateUnit != "" {
			rate = num(x.Rate) + " " + x.RateUnit
		}
		if x.Speedup > 0 {
			speed = fmt.Sprintf("%.2f×", x.Speedup)
		}
		metric := ""
		if x.Metric != "time" {
			metric = x.Metric + " "
		}
		med := metric + num(x.Median) + " " + x.Unit
		if x.Note != "" {
			med += " (" + x.Note + ")"
		}
		runsCol := strings.Join(runs, ", ")
		if len(x.Runs) == 1 {
			runsCol = ""
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", x.Scenario, x.Tool, med, rate, runsCol, speed)
	}
	if len(r.CPU) > 0 {
		fmt.Fprintln(w, "\nCPU seconds per run (medians; two cores give 2 s per second):")
		fmt.Fprintln(w, "\n| scenario | tool | MinIO | everything else | total |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
		for _, c := range r.CPU {
			fmt.Fprintf(w, "| %s | %s | %s s | %s s | %s s |\n", c.Scenario, c.Tool,
				num(c.MinIOMedian), num(c.OtherMedian), num(c.TotalMedian))
		}
	}
	fmt.Fprintln(w, "\n| target (issue 9) | wanted | this run | met |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	for _, t := range r.Targets {
		met := "not met"
		switch {
		case t.NotJudged:
			met = "not judged"
		case t.Met:
			met = "met"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, met)
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "- PROBLEM: %s\n", p)
	}
}

// WriteJSON writes the report to path, creating its directory.
func (r *Report) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// num formats v with about three significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "n/a"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
