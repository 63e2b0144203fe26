package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
)

// column is one table column: a header and the JSON key it shows
// (dotted keys reach into nested objects).
type column struct{ head, key string }

func cols(spec string) []column {
	var out []column
	for _, f := range strings.Fields(spec) {
		head, key, ok := strings.Cut(f, "=")
		if !ok {
			key = head
		}
		out = append(out, column{strings.ToUpper(head), key})
	}
	return out
}

// show prints v as JSON with --json, else through human.
func show(c *cli.Context, v any, human func() error) error {
	if c.Bool("json") {
		return printJSON(v)
	}
	return human()
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints a list of JSON objects as an aligned table.
func table(rows []map[string]any, columns []column) error {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	heads := make([]string, len(columns))
	for i, c := range columns {
		heads[i] = c.head
	}
	fmt.Fprintln(tw, strings.Join(heads, "\t"))
	for _, r := range rows {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = columnCell(c.key, lookup(r, c.key))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// listing prints rows as JSON or as a table.
func listing(c *cli.Context, rows []map[string]any, spec string) error {
	return show(c, rows, func() error { return table(rows, cols(spec)) })
}

// record prints one JSON object as "key: value" lines, or as JSON.
func record(c *cli.Context, v map[string]any) error {
	return show(c, v, func() error {
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		for _, k := range keys {
			fmt.Fprintf(tw, "%s:\t%s\n", k, columnCell(k, v[k]))
		}
		return tw.Flush()
	})
}

func lookup(m map[string]any, key string) any {
	var cur any = m
	for _, part := range strings.Split(key, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[part]
	}
	return cur
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil && len(x) > 10 {
			if t.IsZero() {
				return "-"
			}
			return t.UTC().Format(time.RFC3339)
		}
		if x == "" {
			return "-"
		}
		return x
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.2f", x)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return fields(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// columnCell is cell, with byte counts (a key naming bytes) in IEC units.
func columnCell(key string, v any) string {
	if n, ok := v.(float64); ok && strings.Contains(key, "bytes") {
		return bytesHuman(n)
	}
	return cell(v)
}

// fields renders a nested object as "key=value" pairs, sorted by key,
// leaving out empty values.
func fields(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		if c := columnCell(k, m[k]); c != "-" {
			parts = append(parts, k+"="+c)
		}
	}
	return strings.Join(parts, " ")
}

// bytesHuman renders a byte count with a binary unit.
func bytesHuman(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, units[i])
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
