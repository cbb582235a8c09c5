// Package admin owns the local admin API on the daemon's Unix socket:
// its routes, its wire types, the HTTP handler the daemon serves (over a
// Service the daemon implements) and the client the CLI uses. Only root
// (the socket's owner, mode 0600) can connect: the file system is the
// authentication, as for docker.sock.
//
// It decides nothing about shares, snapshots or jobs: every request is
// passed to the Service. The web page's admin actions are not here; they
// come with their own login in package status.
package admin
