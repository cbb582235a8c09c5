// Package alert decides which problems of the appliance a person must hear
// about, and tells them: over Telegram and generic JSON webhooks.
//
// It owns three things, each usable alone:
//
//   - the rules (Evaluate): a pure function from a snapshot of the
//     appliance (internal/model), the thresholds and the time to the set
//     of active problems, each with a stable key (rule and subject), a
//     severity and a message that names the share and file where there is
//     one; whether a share is stale is the model's decision;
//   - the engine (Engine): the memory of what was already said. A problem
//     fires once, after it has persisted for a short "for" duration (no
//     flapping), repeats at an interval while it lasts, and is followed by
//     a "resolved" notice when it ends. Each raise and resolve is recorded
//     in the daemon's event log. Delivery runs on its own goroutines with a
//     bounded queue per sender, retries with backoff, and never blocks the
//     caller;
//   - the senders (Telegram, Webhook).
//
// It must never let a secret out: the Telegram bot token travels in the
// URL path, and a webhook URL may carry a token of its own (Discord, Slack
// and most chat hooks do), so errors from senders name only the host and
// are scrubbed of the token; they never wrap a *url.Error, which prints the
// whole URL. It reads snapshots, never the pipelines themselves, and
// changes nothing on the appliance.
package alert
