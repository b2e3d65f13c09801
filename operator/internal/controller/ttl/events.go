package ttl

import (
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

// eventer records an event unless events are off (nil recorder).
type eventer struct{ rec recorder.EventRecorder }

func (e eventer) event(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if e.rec != nil {
		e.rec.Eventf(regarding, related, eventtype, reason, action, note, args...)
	}
}
