package model

// Alert is a problem the alert rules see now and have notified (docs/alerts.md).
type Alert struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"` // warning or critical
	Share    string `json:"share,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
}

// Warning is a standing warning left for the station by another part of
// the appliance (the image's first boot: a file-backed pool, an invalid
// config).
type Warning struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}
