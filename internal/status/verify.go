package status

// Verify is a share's integrity check state.
type Verify struct {
	// Mismatches counts the problems the last finished verify found.
	Mismatches int `json:"mismatches"`
}
