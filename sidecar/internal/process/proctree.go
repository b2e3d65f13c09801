package process

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procStat holds the fields of /proc/<pid>/stat this package needs.
type procStat struct {
	state byte
	ppid  int
	pgrp  int
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name is in parentheses and may itself hold spaces or
	// parentheses: the fields we want follow the last ')'.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 || end+2 >= len(data) {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[end+2:]))
	if len(fields) < 3 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat ppid: %w", pid, err)
	}
	pgrp, err := strconv.Atoi(fields[2])
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat pgrp: %w", pid, err)
	}
	return procStat{state: fields[0][0], ppid: ppid, pgrp: pgrp}, nil
}

// childrenOf lists the direct children of pid, from every thread's
// /proc/<pid>/task/<tid>/children (orphans reparented to a subreaper land on
// any of its threads).
func childrenOf(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			if child, err := strconv.Atoi(field); err == nil {
				out = append(out, child)
			}
		}
	}
	return out
}

// procTree is a snapshot of every process in /proc: its stat and its
// children, read from each process's own stat file. Unlike
// /proc/<pid>/task/*/children, which may omit live children while others
// exit (proc(5)), a process's stat always holds its current parent, so a kill
// sweep misses no one.
type procTree struct {
	children map[int][]int
	stats    map[int]procStat
}

func snapshotTree() procTree {
	entries, _ := os.ReadDir("/proc")
	tree := procTree{children: map[int][]int{}, stats: make(map[int]procStat, len(entries))}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil {
			tree.stats[pid] = st
			tree.children[st.ppid] = append(tree.children[st.ppid], pid)
		}
	}
	return tree
}

// live tells whether pid was running (present, not a zombie) when the
// snapshot was taken.
func (t procTree) live(pid int) bool {
	st, ok := t.stats[pid]
	return ok && st.state != 'Z'
}

// descendants lists every descendant of pid, skipping the subtrees rooted at
// the pids in skip.
func (t procTree) descendants(pid int, skip map[int]bool) []int {
	var out []int
	queue := []int{pid}
	seen := map[int]bool{pid: true}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, child := range t.children[parent] {
			if seen[child] || skip[child] {
				continue
			}
			seen[child] = true
			out = append(out, child)
			queue = append(queue, child)
		}
	}
	return out
}

// liveSet collects live pids of a snapshot once each, in the order added.
type liveSet struct {
	tree procTree
	seen map[int]bool
	pids []int
}

func newLiveSet(tree procTree) *liveSet {
	return &liveSet{tree: tree, seen: map[int]bool{}}
}

// add records pid if it is live and new, and tells whether it was new.
func (s *liveSet) add(pid int) bool {
	if s.seen[pid] {
		return false
	}
	s.seen[pid] = true
	if s.tree.live(pid) {
		s.pids = append(s.pids, pid)
	}
	return true
}

// sweepsToConfirm is how many sweeps in a row must find nothing before a
// kill is done: a process caught between its dying parent and the subreaper
// may be missing from one snapshot of /proc.
const sweepsToConfirm = 2

// sweep kills the processes targets lists, round after round (a process
// forking while it is killed is caught in the next round), until
// sweepsToConfirm rounds in a row find none; it reports false if rounds ran
// out first. pause runs after each round that killed something.
func sweep(rounds int, targets func() []int, kill func([]int), pause func()) bool {
	empty := 0
	for round := 0; round < rounds; round++ {
		found := targets()
		if len(found) == 0 {
			if empty++; empty == sweepsToConfirm {
				return true
			}
			time.Sleep(time.Millisecond)
			continue
		}
		empty = 0
		kill(found)
		pause()
	}
	return false
}
