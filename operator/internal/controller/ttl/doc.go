// Package ttl deletes what is no longer needed: finished Tasks once their
// ttlSecondsAfterFinished has passed, one-shot Sandboxes (keepAlive: false)
// once their task finished, and Sandboxes idle past idleTimeoutSeconds.
package ttl
