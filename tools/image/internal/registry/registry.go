// Package registry serves an OCI registry on loopback for the local
// cluster: go-containerregistry's pkg/registry (a complete implementation
// of the distribution API, used by ggcr's own tests) with its disk blob
// handler, so layers live in the cluster's state directory.
//
// pkg/registry keeps manifests and tags in memory only. So that pushed
// images survive a restart of the registry (arl-local down, then up), every
// accepted manifest PUT is appended to a journal in the same directory and
// replayed through the registry's own handler at start, in push order (an
// index after the manifests it lists, as the registry requires).
package registry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
)

// Handler is a registry keeping blobs under dir/blobs and its manifest
// journal at dir/manifests.jsonl.
type Handler struct {
	inner   http.Handler
	journal string
	mu      sync.Mutex
}

// record is one journaled manifest PUT.
type record struct {
	Path        string `json:"path"` // /v2/<repo>/manifests/<reference>
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// New opens (or creates) the registry data in dir and replays its journal.
func New(dir string, logger *log.Logger) (*Handler, int, error) {
	blobs := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, 0, fmt.Errorf("registry data: %w", err)
	}
	h := &Handler{
		inner:   ggcr.New(ggcr.WithBlobHandler(ggcr.NewDiskBlobHandler(blobs)), ggcr.Logger(logger)),
		journal: filepath.Join(dir, "manifests.jsonl"),
	}
	n, err := h.replay()
	return h, n, err
}

func (h *Handler) replay() (int, error) {
	f, err := os.Open(h.journal)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open manifest journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return n, fmt.Errorf("manifest journal %s line %d: %w", h.journal, n+1, err)
		}
		req := httptest.NewRequest(http.MethodPut, r.Path, bytes.NewReader(r.Body))
		req.Header.Set("Content-Type", r.ContentType)
		rec := httptest.NewRecorder()
		h.inner.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			return n, fmt.Errorf("replay %s: HTTP %d: %s", r.Path, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		n++
	}
	return n, sc.Err()
}

// ServeHTTP serves the registry and journals accepted manifest PUTs.
func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPut || !strings.Contains(req.URL.Path, "/manifests/") {
		h.inner.ServeHTTP(w, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 64<<20))
	if err != nil {
		http.Error(w, `{"errors":[{"code":"MANIFEST_INVALID","message":"read body"}]}`, http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.inner.ServeHTTP(rec, req)
	if rec.Code == http.StatusCreated {
		if err := h.append(record{Path: req.URL.Path, ContentType: req.Header.Get("Content-Type"), Body: body}); err != nil {
			http.Error(w, fmt.Sprintf(`{"errors":[{"code":"UNKNOWN","message":%q}]}`, err.Error()), http.StatusInternalServerError)
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (h *Handler) append(r record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode manifest record: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := os.OpenFile(h.journal, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open manifest journal: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write manifest journal: %w", err)
	}
	return f.Close()
}
