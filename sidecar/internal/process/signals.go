package process

import (
	"fmt"
	"strings"
	"syscall"
)

var allowedSignals = map[string]syscall.Signal{
	"SIGTERM": syscall.SIGTERM,
	"SIGINT":  syscall.SIGINT,
	"SIGKILL": syscall.SIGKILL,
	"SIGHUP":  syscall.SIGHUP,
	"SIGQUIT": syscall.SIGQUIT,
	"SIGUSR1": syscall.SIGUSR1,
	"SIGUSR2": syscall.SIGUSR2,
}

// AllowedSignalNames lists the signals a caller may send, in a stable order.
const AllowedSignalNames = "SIGTERM, SIGINT, SIGKILL, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2"

// ParseSignal accepts a signal name with or without the SIG prefix, in any
// case, and returns the canonical name ("SIGTERM") and the signal.
func ParseSignal(name string) (string, syscall.Signal, error) {
	canonical := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(canonical, "SIG") {
		canonical = "SIG" + canonical
	}
	sig, ok := allowedSignals[canonical]
	if !ok {
		return "", 0, fmt.Errorf("unknown signal %q: allowed are %s", name, AllowedSignalNames)
	}
	return canonical, sig, nil
}

// signalName names a signal that ended a process ("SIGKILL").
func signalName(sig syscall.Signal) string {
	for name, s := range allowedSignals {
		if s == sig {
			return name
		}
	}
	switch sig {
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGBUS:
		return "SIGBUS"
	case syscall.SIGFPE:
		return "SIGFPE"
	case syscall.SIGALRM:
		return "SIGALRM"
	}
	return fmt.Sprintf("SIG%d", int(sig))
}
