package policy

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current outcomes")

// item is a fake protected item holding what vault stores for its points.
type item struct {
	p      Policy
	points []Point
}

// backup takes a scheduled point at the instant at the way vault will:
// classify it against the stored points, store it, then apply retention.
func (it *item) backup(t testing.TB, at time.Time) {
	t.Helper()
	pt, err := it.p.NewPoint(at, it.points)
	if err != nil {
		t.Fatal(err)
	}
	it.points = append(it.points, pt)
	it.expire(at)
}

// expire deletes the points Expired says may go at now.
func (it *item) expire(now time.Time) {
	gone := map[int64]bool{}
	for _, pt := range Expired(it.points, now) {
		gone[pt.Time.UnixNano()] = true
	}
	it.points = slices.DeleteFunc(it.points, func(pt Point) bool { return gone[pt.Time.UnixNano()] })
}

// runs returns the schedule's runs after start up to and including end, from Next.
func runs(t testing.TB, s Schedule, start, end time.Time) []time.Time {
	t.Helper()
	var out []time.Time
	for at := start; ; {
		next, err := s.Next(at)
		if err != nil {
			t.Fatal(err)
		}
		if next.After(end) {
			return out
		}
		out = append(out, next)
		at = next
	}
}

// simulate backs an item up at each run and returns the points it holds at
// each checkpoint (checkpoints in increasing order, retention applied there).
func simulate(t testing.TB, p Policy, at []time.Time, checkpoints []time.Time) [][]Point {
	t.Helper()
	it := &item{p: p}
	var out [][]Point
	for _, run := range at {
		for len(out) < len(checkpoints) && checkpoints[len(out)].Before(run) {
			it.expire(checkpoints[len(out)])
			out = append(out, slices.Clone(it.points))
		}
		it.backup(t, run)
	}
	for len(out) < len(checkpoints) {
		it.expire(checkpoints[len(out)])
		out = append(out, slices.Clone(it.points))
	}
	return out
}

// report writes the points held at each checkpoint, one line each, in the policy's zone.
func report(p Policy, checkpoints []time.Time, held [][]Point) string {
	loc, _ := loadZone(p.Schedule.Zone)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", p)
	for i, cp := range checkpoints {
		fmt.Fprintf(&b, "\n== at %s: %s, %s\n", cp.In(loc).Format(time.RFC3339), plural(len(held[i]), "point"), formatCounts(activeCounts(p, held[i], cp)))
		for _, pt := range held[i] {
			fmt.Fprintf(&b, "%s  %-28s until %s\n", pt.Time.In(loc).Format(time.RFC3339),
				joinTiers(pt.Tiers), pt.Expiry.In(loc).Format(time.RFC3339))
		}
	}
	return b.String()
}

func joinTiers(tiers []Tier) string {
	s := make([]string, len(tiers))
	for i, t := range tiers {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

// activeCounts counts, per tier, the held points that tier still holds at
// now (member, and the tier's own end is after now).
func activeCounts(p Policy, held []Point, now time.Time) map[Tier]int {
	loc, _ := loadZone(p.Schedule.Zone)
	n := map[Tier]int{}
	for _, pt := range held {
		for _, tier := range pt.Tiers {
			end, ok := p.Retention.tierEnd(tier, wall(pt.Time, loc))
			if ok && resolve(end, loc).After(now) {
				n[tier]++
			}
		}
	}
	return n
}

func formatCounts(n map[Tier]int) string {
	return fmt.Sprintf("held by daily %d, weekly %d, monthly %d, yearly %d", n[TierDaily], n[TierWeekly], n[TierMonthly], n[TierYearly])
}

// golden compares got with testdata/name.golden, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./policy -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("outcome differs from %s (if intended, rerun with -update and review the diff):\n%s", path, firstDiff(got, string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		gl, wl := "", ""
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return ""
}

// find returns the held point taken at the RFC 3339 instant s, or false.
func find(t *testing.T, held []Point, s string) (Point, bool) {
	at := mustTime(t, s)
	for _, pt := range held {
		if pt.Time.Equal(at) {
			return pt, true
		}
	}
	return Point{}, false
}
