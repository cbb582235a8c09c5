package samba

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// ClientReadBytes returns the bytes each smbd process serving clients has
// read so far, by pid: the rchar line of /proc/PID/io, which counts
// page-cache hits (a playout PC replaying a cached track) as well as disk
// reads. With pgid > 0 it counts the processes of that process group
// except its leader (a standalone smbd started by the daemon: the leader
// only accepts connections); with pgid 0, every process whose name starts
// with "smbd" (the system's smbd in appliance mode). Reading another
// user's /proc/PID/io needs root, as the daemon runs.
//
// It reads /proc/PID/stat of every process and /proc/PID/io of the
// matches: about a millisecond on an appliance.
func ClientReadBytes(pgid int) (map[int]int64, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("smbd client reads: %w", err)
	}
	out := map[int]int64{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, group, ok := statOf(pid)
		if !ok {
			continue // gone since ReadDir
		}
		if pgid > 0 && (group != pgid || pid == pgid) {
			continue
		}
		if pgid == 0 && !bytes.HasPrefix(comm, []byte("smbd")) {
			continue
		}
		n, err := rchar(pid)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("smbd client reads: %w", err)
		}
		out[pid] = n
	}
	return out, nil
}

// statOf returns a process's name and process group from /proc/PID/stat.
func statOf(pid int) (comm []byte, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return nil, 0, false
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 3 {
		return nil, 0, false
	}
	pgid, err = strconv.Atoi(string(f[2]))
	return b[open+1 : end], pgid, err == nil
}

// rchar reads the rchar counter of /proc/PID/io.
func rchar(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("rchar:")); ok {
			return strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/io has no rchar", pid)
}
