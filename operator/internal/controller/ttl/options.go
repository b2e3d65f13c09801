// Package ttl deletes what is no longer needed: finished Tasks once their
// ttlSecondsAfterFinished has passed, one-shot Sandboxes (keepAlive: false)
// once their task finished, and Sandboxes idle past idleTimeoutSeconds.
package ttl

// Options configures the TTL controllers. The zero value is usable.
type Options struct {
	// RecorderName is the events' reporting controller (default
	// "arl-ttl-controller").
	RecorderName string
	// EventsDisabled records no Events (the operator's --events=false).
	EventsDisabled bool
}

// DefaultRecorderName is the default of Options.RecorderName.
const DefaultRecorderName = "arl-ttl-controller"

func (o Options) withDefaults() Options {
	if o.RecorderName == "" {
		o.RecorderName = DefaultRecorderName
	}
	return o
}
