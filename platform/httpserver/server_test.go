package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

func TestDrainKeepsServingThenClosesTheListener(t *testing.T) {
	drain := &Drain{}
	s := New("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}), slog.New(slog.DiscardHandler))
	s.DrainFirst(drain, 400*time.Millisecond)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	url := "http://" + s.Addr() + "/"
	client := &http.Client{Transport: &http.Transport{}}

	res, err := client.Get(url)
	if err != nil || res.Header.Get("Connection") == "close" {
		t.Fatalf("before shutdown: %v %v", err, res.Header)
	}
	res.Body.Close()

	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- s.Stop(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	if !drain.Draining() {
		t.Fatal("readiness must report draining as soon as shutdown begins")
	}
	res, err = client.Get(url)
	if err != nil {
		t.Fatalf("during the drain the listener must still accept: %v", err)
	}
	res.Body.Close()
	if !res.Close && res.Header.Get("Connection") != "close" {
		t.Errorf("answers during the drain must close their connection: %v", res.Header)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Errorf("stopped after %s, before the drain delay", waited)
	}
	if _, err := client.Get(url); err == nil {
		t.Error("after the drain the listener must be closed")
	}
}

func TestStopWithoutDrainIsImmediate(t *testing.T) {
	s := New("127.0.0.1:0", http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 200*time.Millisecond {
		t.Errorf("stop took %s", time.Since(start))
	}
}

// A request that arrived before the drain and answers during it closes its
// connection too: its client must not reuse a connection that Shutdown is
// about to close as idle.
func TestAnswerDuringDrainClosesItsConnection(t *testing.T) {
	drain := &Drain{}
	entered, release := make(chan struct{}), make(chan struct{})
	s := New("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}), slog.New(slog.DiscardHandler))
	s.DrainFirst(drain, 300*time.Millisecond)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	got := make(chan *http.Response, 1)
	go func() {
		res, err := client.Get("http://" + s.Addr() + "/slow")
		if err != nil {
			t.Error(err)
			got <- nil
			return
		}
		res.Body.Close()
		got <- res
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	for !drain.Draining() {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if res := <-got; res != nil && !res.Close && res.Header.Get("Connection") != "close" {
		t.Errorf("an answer written during the drain kept its connection open: %v", res.Header)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
