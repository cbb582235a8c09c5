// Package samba owns everything Samba on the appliance: smb.conf text
// rendered from share definitions and checked with testparm, the Unix and
// Samba accounts, a private smbd (standalone mode) or reloads of the system
// one (appliance mode), the clients and open files smbd reports and the
// clients suspected of a share's suspicious changes (ClientsWatcher), and
// probes of shares as a Windows client. Service runs
// all of that from the config, restarts a private smbd with backoff, and
// keeps its state and warnings for the status model. It never imports the
// daemon or the HTTP status package.
//
// It is the only package that executes smbd, testparm, pdbedit, smbcontrol,
// smbstatus, getent and useradd, and, with its tests, the only one that
// imports go-smb2.
//
// Rules this package must keep:
//
//   - Configuration text is never concatenated from unchecked input. Every
//     share name, path, comment and user name is validated against a narrow
//     grammar before it reaches a template; anything that could start a new
//     line, section or parameter, or that Samba would expand as a macro (%),
//     is refused with an error that names the culprit.
//   - A password never appears on a command line, in a log event or in an
//     error: it is written to pdbedit's standard input and nowhere else.
//   - Files on a share are owned by one service account (Samba's force
//     user), and the appliance's own temp and marker names (.genesissync*)
//     are vetoed: invisible and inaccessible over SMB.
//   - Whatever this package starts, it stops: smbd runs in its own session
//     and process group, and the samba-dcerpcd it spawns on demand is
//     stopped through its pid file, so nothing outlives Stop.
//
// Functions in this package are safe for concurrent use unless their
// documentation says otherwise; the tools they run are not, so callers should
// not sync users or reload the same configuration from two goroutines at once.
package samba
