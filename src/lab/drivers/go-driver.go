// The Go client driver: Go's net/http (the standard library only; Debian golang-go). Built once by
// drivers/index.ts (prepareGoBinary) and run as `go-driver '<DriverConfig JSON>'`; speaks the
// JSON-lines protocol of protocol.ts: ready (with software go-net-http and runtime.Version()),
// connected (then, when paused, waits for the line `go` on stdin; exits with status 3 if stdin
// closes first), idle (reuse), response-started, exactly one result.
//
// The pause point holds inside the Transport's own dial path, before it ever reads the socket:
// http in DialContext right after the TCP connect; https/h2 in DialTLSContext after the connect
// and before the ClientHello; https through a proxy (Go does the CONNECT itself, after
// DialContext) at the connection's first write after the CONNECT request — the ClientHello — so
// the tunnel is up and nothing has read the socket since. With `reuse`, one http.Client makes two
// requests and the pause is at the idle point instead (connected is printed, not held).
//
// The Outcome is Go's own: message = err.Error() as printed (`Get "http://…": read tcp a->b: read:
// connection reset by peer`), error = the dynamic type (`*url.Error`), causes = the errors.Unwrap
// chain by type and message (`*net.OpError`, `*os.SyscallError`, `syscall.Errno`), code = the
// errno's name (ECONNRESET) found in the chain, else `io.EOF` / `io.ErrUnexpectedEOF`.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type hostPort struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

type reuseConfig struct {
	IdleMs  *int   `json:"idleMs"`
	Method  string `json:"method"`
	NoRetry bool   `json:"noRetry"`
}

type config struct {
	Client    string       `json:"client"`
	Scheme    string       `json:"scheme"`
	Target    hostPort     `json:"target"`
	Path      string       `json:"path"`
	Proxy     *hostPort    `json:"proxy"`
	Pause     bool         `json:"pause"`
	CAFile    string       `json:"caFile"`
	Reuse     *reuseConfig `json:"reuse"`
	TimeoutMs int          `json:"timeoutMs"`
}

type cause struct {
	Error   string `json:"error"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

type outcome struct {
	Kind    string   `json:"kind"`
	Status  int      `json:"status,omitempty"`
	Bytes   *int64   `json:"bytes,omitempty"`
	Error   string   `json:"error,omitempty"`
	Code    string   `json:"code,omitempty"`
	Message string   `json:"message,omitempty"`
	Causes  []cause  `json:"causes"`
	Notes   []string `json:"notes,omitempty"`
}

var (
	outMu     sync.Mutex
	finished  bool
	started   = time.Now()
	connectMs *float64
	stdin     = make(chan string, 16)
)

func emit(v interface{}) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	defer outMu.Unlock()
	if finished {
		return
	}
	os.Stdout.Write(append(b, '\n'))
}

func ms(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}

// finish prints the one result and exits.
func finish(o outcome) {
	outMu.Lock()
	if finished {
		outMu.Unlock()
		select {} // another goroutine is exiting
	}
	finished = true
	timings := map[string]float64{"totalMs": ms(time.Since(started))}
	if connectMs != nil {
		timings["connectMs"] = *connectMs
	}
	if o.Causes == nil {
		o.Causes = []cause{}
	}
	b, _ := json.Marshal(map[string]interface{}{"event": "result", "outcome": o, "timings": timings})
	os.Stdout.Write(append(b, '\n'))
	os.Exit(0)
}

func readStdin() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		stdin <- sc.Text()
	}
	close(stdin)
}

// waitGo blocks until the line `go`; stdin closed first: exit 3 without a result.
func waitGo() {
	for line := range stdin {
		if strings.TrimSpace(line) == "go" {
			return
		}
	}
	fmt.Fprintln(os.Stderr, "stdin closed while waiting for go")
	os.Exit(3)
}

func markConnected() {
	if connectMs == nil {
		v := ms(time.Since(started))
		connectMs = &v
	}
}

// connected prints the event and, at the seed's breakpoint, holds.
func connected(c net.Conn, hold bool) {
	markConnected()
	emit(map[string]string{"event": "connected", "local": c.LocalAddr().String(), "remote": c.RemoteAddr().String()})
	if hold {
		waitGo()
	}
}

// holdingConn holds before its write number `holdAt` (1-based): the ClientHello after Go's own CONNECT.
type holdingConn struct {
	net.Conn
	writes int
	holdAt int
}

func (h *holdingConn) Write(p []byte) (int, error) {
	h.writes++
	if h.writes == h.holdAt {
		connected(h.Conn, true)
	}
	return h.Conn.Write(p)
}

var errnoNames = map[syscall.Errno]string{
	syscall.ECONNRESET: "ECONNRESET", syscall.ECONNREFUSED: "ECONNREFUSED", syscall.EPIPE: "EPIPE",
	syscall.ETIMEDOUT: "ETIMEDOUT", syscall.ECONNABORTED: "ECONNABORTED", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.ENETUNREACH: "ENETUNREACH", syscall.ENOTCONN: "ENOTCONN", syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL",
}

func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

// errorOutcome: the error as Go prints it, its Unwrap chain, and a stable code.
func errorOutcome(err error, status int, body *int64, notes []string) outcome {
	o := outcome{Kind: "error", Error: fmt.Sprintf("%T", err), Message: err.Error(), Status: status, Bytes: body, Notes: notes, Causes: []cause{}}
	var errno syscall.Errno
	for e, depth := errors.Unwrap(err), 0; e != nil && depth < 16; e, depth = errors.Unwrap(e), depth+1 {
		c := cause{Error: fmt.Sprintf("%T", e), Message: e.Error()}
		if en, ok := e.(syscall.Errno); ok {
			c.Code = errnoName(en)
		}
		o.Causes = append(o.Causes, c)
	}
	var netErr net.Error
	switch {
	case errors.As(err, &errno):
		o.Code = errnoName(errno)
	case errors.Is(err, io.ErrUnexpectedEOF):
		o.Code = "io.ErrUnexpectedEOF"
	case errors.Is(err, io.EOF):
		o.Code = "io.EOF"
	case errors.As(err, &netErr) && netErr.Timeout():
		o.Code = "timeout"
	}
	return o
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-driver '<DriverConfig JSON>'")
		os.Exit(2)
	}
	var cfg config
	if err := json.Unmarshal([]byte(os.Args[len(os.Args)-1]), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bad configuration:", err)
		os.Exit(2)
	}
	go readStdin()
	go func() {
		time.Sleep(time.Duration(cfg.TimeoutMs) * time.Millisecond)
		finish(outcome{Kind: "timeout-internal", Message: fmt.Sprintf("no outcome within %d ms", cfg.TimeoutMs)})
	}()
	emit(map[string]interface{}{"event": "ready", "software": map[string]string{"family": "go-net-http", "version": runtime.Version()}})

	secure := cfg.Scheme == "https" || cfg.Scheme == "h2"
	holdAtConnect := cfg.Pause && cfg.Reuse == nil
	tlsConfig := &tls.Config{ServerName: cfg.Target.Host, NextProtos: []string{"http/1.1"}}
	if cfg.Scheme == "h2" {
		tlsConfig.NextProtos = []string{"h2", "http/1.1"}
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			finish(errorOutcome(err, 0, nil, nil))
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tlsConfig.RootCAs = pool
	}
	dialer := &net.Dialer{}
	transport := &http.Transport{
		ForceAttemptHTTP2:   cfg.Scheme == "h2",
		TLSClientConfig:     tlsConfig,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1,
	}
	if cfg.Proxy != nil {
		proxyURL := &url.URL{Scheme: "http", Host: net.JoinHostPort(cfg.Proxy.Host, strconv.Itoa(cfg.Proxy.Port))}
		transport.Proxy = http.ProxyURL(proxyURL)
	}
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if cfg.Proxy != nil && secure {
			// Go writes the CONNECT (write 1), reads the answer, then the ClientHello (write 2).
			if holdAtConnect {
				markConnected()
				return &holdingConn{Conn: c, holdAt: 2}, nil
			}
		}
		connected(c, holdAtConnect)
		return c, nil
	}
	if secure && cfg.Proxy == nil {
		transport.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			connected(c, holdAtConnect)
			tc := tls.Client(c, tlsConfig)
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, err
			}
			return tc, nil
		}
	}
	client := &http.Client{Transport: transport}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	base := scheme + "://" + net.JoinHostPort(cfg.Target.Host, strconv.Itoa(cfg.Target.Port))

	var notes []string
	if cfg.Reuse != nil {
		// Request 1: read it all and close the body, so the connection goes back to the idle pool.
		res, err := client.Get(base + "/")
		if err != nil {
			finish(errorOutcome(err, 0, nil, append(notes, "first-request")))
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		emit(map[string]string{"event": "idle"})
		if cfg.Pause {
			waitGo()
		} else if cfg.Reuse.IdleMs != nil {
			time.Sleep(time.Duration(*cfg.Reuse.IdleMs) * time.Millisecond)
		}
		if cfg.Reuse.NoRetry {
			notes = append(notes, "no-retry-switch") // net/http has none; Go retries idempotent requests on reused connections
		}
	}
	method := "GET"
	var body io.Reader
	if cfg.Reuse != nil && cfg.Reuse.Method == "POST" {
		method = "POST"
		body = bytes.NewReader([]byte("rstlab=1"))
	}
	req, err := http.NewRequest(method, base+cfg.Path, body)
	if err != nil {
		finish(errorOutcome(err, 0, nil, notes))
	}
	dials := 0
	if cfg.Reuse != nil {
		// How many connections the second request needed (a transparent retry dials again).
		inner := transport.DialContext
		transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials++
			return inner(ctx, network, addr)
		}
		if transport.DialTLSContext != nil {
			innerTLS := transport.DialTLSContext
			transport.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials++
				return innerTLS(ctx, network, addr)
			}
		}
	}
	res, err := client.Do(req)
	if cfg.Reuse != nil {
		notes = append(notes, fmt.Sprintf("new-connections=%d", dials))
	}
	if err != nil {
		finish(errorOutcome(err, 0, nil, notes))
	}
	emit(map[string]interface{}{"event": "response-started", "status": res.StatusCode})
	if res.ProtoMajor == 2 {
		notes = append(notes, "proto=HTTP/2.0")
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		finish(errorOutcome(err, res.StatusCode, &n, notes))
	}
	finish(outcome{Kind: "ok", Status: res.StatusCode, Bytes: &n, Notes: notes})
}
