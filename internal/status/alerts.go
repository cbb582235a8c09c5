package status

// Alert is a problem the alert rules see now and have notified (docs/alerts.md).
type Alert struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"` // warning or critical
	Share    string `json:"share,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
}
