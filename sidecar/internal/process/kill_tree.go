package process

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
)

// CommandIDEnv names the environment variable that marks every process a
// command started (and, by inheritance, its descendants) with the
// command's id, so they can be found once they have left its process tree
// and group: a timeout then ends them too.
const CommandIDEnv = "ARL_COMMAND_ID"

// sweepsToConfirm is how many sweeps in a row must find nothing before a
// kill is done: a process caught between its dying parent and the subreaper
// may be missing from one snapshot of /proc.
const sweepsToConfirm = 2

// killTree SIGKILLs p's process group and every process of this manager's
// subtree that came from p, round after round until none is left (a
// process forking while it is killed is caught in the next round).
func (m *Manager) killTree(p *Process) {
	emptyRounds := 0
	for round := 0; round < 50; round++ {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
		targets := m.treeOf(p)
		if len(targets) == 0 {
			if emptyRounds++; emptyRounds == sweepsToConfirm {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		emptyRounds = 0
		for _, pid := range targets {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.log.Warn("processes of a killed command keep appearing", "pid", p.Pid)
}

// treeOf lists the live processes that came from p: p, its descendants,
// members of its process group, processes carrying its command id, and
// their descendants. Only this manager's subtree is searched (user
// processes stay in it: orphans are reparented to this subreaper), and the
// protected main command's subtree is skipped.
func (m *Manager) treeOf(p *Process) []int {
	m.mu.Lock()
	skip := make(map[int]bool, len(m.protected))
	for pid := range m.protected {
		skip[pid] = true
	}
	m.mu.Unlock()
	tree := snapshotTree()
	from := map[int]bool{p.Pid: true}
	for _, d := range tree.descendants(p.Pid, skip) {
		from[d] = true
	}
	var out []int
	seen := map[int]bool{}
	var add func(pid int)
	add = func(pid int) {
		if seen[pid] {
			return
		}
		seen[pid] = true
		if st, err := readProcStat(pid); err == nil && st.state != 'Z' {
			out = append(out, pid)
		}
		for _, d := range tree.descendants(pid, skip) {
			add(d)
		}
	}
	for _, pid := range tree.descendants(m.self, skip) {
		if from[pid] {
			add(pid)
			continue
		}
		st, err := readProcStat(pid)
		if err != nil {
			continue
		}
		if st.pgrp == p.Pid || hasEnv(pid, CommandIDEnv+"="+p.commandID, true) {
			add(pid)
		}
	}
	return out
}

// hasCommandID tells whether pid carries a command id of this package.
func hasCommandID(pid int) bool {
	return hasEnv(pid, CommandIDEnv+"=", false)
}

// hasEnv tells whether pid's initial environment holds entry (exact) or an
// entry starting with it.
func hasEnv(pid int, entry string, exact bool) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if exact && string(kv) == entry || !exact && bytes.HasPrefix(kv, []byte(entry)) {
			return true
		}
	}
	return false
}
