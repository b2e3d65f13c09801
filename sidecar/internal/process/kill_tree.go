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

// killTree SIGKILLs p's process group and every process of this manager's
// subtree that came from p, until none is left.
func (m *Manager) killTree(p *Process) {
	done := sweep(50,
		func() []int {
			_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
			return m.treeOf(p)
		},
		killEach,
		func() { time.Sleep(5 * time.Millisecond) },
	)
	if !done {
		m.log.Warn("processes of a killed command keep appearing", "pid", p.Pid)
	}
}

func killEach(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// treeOf lists the live processes that came from p: p, its descendants,
// members of its process group, processes carrying its command id, and
// their descendants. Only this manager's subtree is searched (user
// processes stay in it: orphans are reparented to this subreaper), and the
// protected main command's subtree is skipped.
func (m *Manager) treeOf(p *Process) []int {
	skip := m.protectedSet()
	tree := snapshotTree()
	from := map[int]bool{p.Pid: true}
	for _, d := range tree.descendants(p.Pid, skip) {
		from[d] = true
	}
	found := newLiveSet(tree)
	var add func(pid int)
	add = func(pid int) {
		if found.add(pid) {
			for _, d := range tree.descendants(pid, skip) {
				add(d)
			}
		}
	}
	for _, pid := range tree.descendants(m.self, skip) {
		if from[pid] {
			add(pid)
			continue
		}
		st, ok := tree.stats[pid]
		if !ok {
			continue
		}
		if st.pgrp == p.Pid || hasEnv(pid, CommandIDEnv+"="+p.commandID, true) {
			add(pid)
		}
	}
	return found.pids
}

// protectedSet copies the pids of the protected main command(s).
func (m *Manager) protectedSet() map[int]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	skip := make(map[int]bool, len(m.protected))
	for pid := range m.protected {
		skip[pid] = true
	}
	return skip
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
