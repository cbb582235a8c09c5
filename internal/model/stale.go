package model

// StateStale is the state of a share whose oldest unsynced change is
// older than the share's target (StaleAfterSeconds): its recovery point
// is missed.
const StateStale = "stale"
