package tests

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchmarkCommand: "rewind benchmark --vault" measures every stage and
// the vault's shard targets and names what bounds backups and restores.
func TestBenchmarkCommand(t *testing.T) {
	d := startDaemon(t, "")
	var rep struct {
		Targets *struct {
			Targets   int     `json:"targets"`
			WriteGBps float64 `json:"write_gbps"`
			ReadGBps  float64 `json:"read_gbps"`
		} `json:"targets"`
		Stages []struct {
			Stage    string  `json:"stage"`
			OneCore  float64 `json:"one_core_gbps"`
			AllCores float64 `json:"all_cores_gbps"`
		} `json:"stages"`
	}
	d.jsonOf(&rep, "benchmark", "--vault", "default", "--time", "50ms")
	if rep.Targets == nil || rep.Targets.Targets != 6 || rep.Targets.WriteGBps <= 0 || rep.Targets.ReadGBps <= 0 {
		t.Fatalf("targets: %+v", rep.Targets)
	}
	if len(rep.Stages) != 7 {
		t.Fatalf("stages: %+v", rep.Stages)
	}
	for _, s := range rep.Stages {
		if s.OneCore <= 0 || s.AllCores <= 0 {
			t.Errorf("stage %s measured nothing: %+v", s.Stage, s)
		}
	}
	out := d.must("benchmark", "--time", "20ms")
	if !strings.Contains(out, "verdict: backups are bound by") {
		t.Errorf("no verdict:\n%s", out)
	}
}

// TestMetrics: the Prometheus endpoint reports jobs and per-item figures.
func TestMetrics(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d := startDaemon(t, fmt.Sprintf("metrics_listen = %q\n", addr))
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`rewind_jobs{vault="default",type="backup",status="completed"} 1`,
		`rewind_item_last_success_seconds{vault="default",item="files"}`,
		`rewind_vault_locked{vault="default"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}
