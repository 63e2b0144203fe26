package daemon

import (
	"strconv"
	"strings"
	"time"

	"github.com/rewind-backup/rewind/policy"
	"github.com/rewind-backup/rewind/vault"
)

// rateUnits maps a rate's unit to bytes per second per unit.
var rateUnits = map[string]float64{
	"b/s": 1, "kb/s": 1e3, "mb/s": 1e6, "gb/s": 1e9,
	"kib/s": 1 << 10, "mib/s": 1 << 20, "gib/s": 1 << 30,
	"kbit/s": 1e3 / 8, "mbit/s": 1e6 / 8, "gbit/s": 1e9 / 8,
}

// parseRate reads "50MB/s", "800Kbit/s", "1.5GiB/s", "unlimited" or "0"
// into bytes per second (0 = unlimited). The range check is the vault's.
func parseRate(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "unlimited" || t == "0" || t == "" {
		return 0, nil
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, Errf(CodeInvalid, "rate %q: write a number and a unit, e.g. 50MB/s, 800Kbit/s, 1GiB/s, or unlimited", s)
	}
	n, err := strconv.ParseFloat(t[:i], 64)
	unit, ok := rateUnits[strings.TrimSpace(t[i:])]
	if err != nil || !ok {
		return 0, Errf(CodeInvalid, "rate %q: write a number and a unit (B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s, Kbit/s, Mbit/s, Gbit/s), or unlimited", s)
	}
	return int64(n * unit), nil
}

// parseWorkHours reads "mon-fri@08:00-18:00" (days as a range or a list
// like "mon,wed,fri") into the window of b.
func parseWorkHours(s string, b *vault.Bandwidth) error {
	days, hours, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "@")
	start, end, ok2 := strings.Cut(hours, "-")
	if !ok || !ok2 {
		return Errf(CodeInvalid, "work hours %q: write DAYS@HH:MM-HH:MM, e.g. mon-fri@08:00-18:00", s)
	}
	list, err := parseDays(days)
	if err != nil {
		return Errf(CodeInvalid, "work hours %q: %v", s, err)
	}
	b.WorkDays, b.WorkStart, b.WorkEnd = list, start, end
	return nil
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, err := policy.ParseWeekday(from)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = append(out, time.Weekday(a))
			continue
		}
		b, err := policy.ParseWeekday(to)
		if err != nil {
			return nil, err
		}
		for d := int(a); ; d = (d + 1) % 7 {
			out = append(out, time.Weekday(d))
			if d == int(b) {
				break
			}
		}
	}
	return out, nil
}

// bandwidthFrom applies the request's rate and window settings to cur.
func bandwidthFrom(cur vault.Bandwidth, req VaultSettingsRequest) (vault.Bandwidth, error) {
	var err error
	if req.WorkHoursRate != nil {
		if cur.WorkRate, err = parseRate(*req.WorkHoursRate); err != nil {
			return cur, err
		}
	}
	if req.OffHoursRate != nil {
		if cur.OffRate, err = parseRate(*req.OffHoursRate); err != nil {
			return cur, err
		}
	}
	if req.WorkHours != nil {
		if err := parseWorkHours(*req.WorkHours, &cur); err != nil {
			return cur, err
		}
	}
	if req.TZ != nil {
		cur.Zone = *req.TZ
	}
	if cur.Zone == "" {
		cur.Zone = "UTC"
	}
	return cur, cur.Validate()
}
