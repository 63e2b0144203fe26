package vault

import "time"

// JobType names what a job does.
type JobType string

const (
	JobBackup      JobType = "backup"
	JobRestore     JobType = "restore"
	JobConfigure   JobType = "configure-protection"
	JobStop        JobType = "stop-protection"
	JobDelete      JobType = "delete"
	JobVerify      JobType = "verify"
	JobGC          JobType = "gc"
	JobRepair      JobType = "repair"
	JobSeed        JobType = "seed"
	JobUndelete    JobType = "undelete"
	JobConfigVault JobType = "configure-vault"
)

// JobStatus is a job's state; the last four are final.
type JobStatus string

const (
	JobQueued                JobStatus = "queued"
	JobRunning               JobStatus = "running"
	JobCompleted             JobStatus = "completed"
	JobCompletedWithWarnings JobStatus = "completed-with-warnings"
	JobFailed                JobStatus = "failed"
	JobCancelled             JobStatus = "cancelled"
)

// Final reports whether the status is terminal.
func (s JobStatus) Final() bool {
	return s != JobQueued && s != JobRunning
}

// ReasonDaemonStopped is the error of a job found queued or running when the
// vault is opened.
const ReasonDaemonStopped = "the daemon stopped while the job was queued or running: start the job again"

// Progress is how far a job got: Done of Total bytes (Total 0 = unknown) at
// Rate bytes per second.
type Progress struct {
	Done  int64   `json:"done"`
	Total int64   `json:"total"`
	Rate  float64 `json:"rate"`
}

// Job is the record of one job (key v/job/<id>, indexed by item under
// v/ji/<item>/<id>).
type Job struct {
	V           int         `json:"v"`
	ID          string      `json:"id"`
	Type        JobType     `json:"type"`
	Status      JobStatus   `json:"status"`
	Vault       string      `json:"vault"`
	Item        string      `json:"item,omitempty"`
	Point       string      `json:"point,omitempty"`
	Progress    Progress    `json:"progress"`
	Consistency Consistency `json:"consistency,omitempty"`
	Created     time.Time   `json:"created"`
	Started     time.Time   `json:"started,omitzero"`
	Ended       time.Time   `json:"ended,omitzero"`
	Warnings    []string    `json:"warnings,omitempty"`
	Error       string      `json:"error,omitempty"`
	RequestedBy string      `json:"requested_by,omitempty"`
	ApprovedBy  []string    `json:"approved_by,omitempty"`
	Detail      string      `json:"detail,omitempty"` // free text, e.g. restore target
}

// JobFilter selects jobs for Jobs; zero fields match everything.
type JobFilter struct {
	Item   string
	Type   JobType
	Active bool // only queued and running
	Since  time.Time
	Limit  int // newest N (0 = all)
}
