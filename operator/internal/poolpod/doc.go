// Package poolpod is the model of a warm pool's pod shared by the WarmPool
// and Sandbox controllers: the pod a pool builds from its template
// (BuildPod, TemplateHash, PodConfig), its readiness (IsPodReady) and the
// in-memory ledger of pods being handed to a sandbox or deleted by their
// pool (PodClaims). Controllers meet here instead of importing each other.
package poolpod
