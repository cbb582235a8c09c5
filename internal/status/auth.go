package status

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// Cookie and header names of the admin login.
const (
	// SessionCookie holds the session id: HttpOnly, SameSite=Strict,
	// Secure when configured.
	SessionCookie = "genesissync_session"
	// CSRFHeader carries the session's CSRF token on JSON admin POSTs;
	// forms send it as the csrf field.
	CSRFHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

// Login throttling: every failed login is answered after failDelay, and
// a client address with maxFailures failures within failWindow is refused
// (429) until the oldest of them leaves the window.
const (
	failDelay   = time.Second
	maxFailures = 5
	failWindow  = 15 * time.Minute
)

// session is one logged-in admin. Its fields other than flash never
// change after login.
type session struct {
	id      string
	user    string
	csrf    string
	expires time.Time
	flash   string // a one-time message for the next page view; guarded by auth.mu
}

// auth holds the admin accounts, the server-side sessions and the failed
// login record. Safe for concurrent use.
type auth struct {
	admins       map[string][]byte // user -> bcrypt hash
	ttl          time.Duration
	secureCookie bool
	log          zerolog.Logger
	now          func() time.Time
	delay        time.Duration // failDelay; tests shorten it

	dummyOnce sync.Once
	dummy     []byte // a hash compared when the user is unknown, so timing does not tell

	mu       sync.Mutex
	sessions map[string]*session    // by id
	failures map[string][]time.Time // by client IP, newest last
}

func newAuth(opts Options, log zerolog.Logger) *auth {
	a := &auth{
		admins:       make(map[string][]byte, len(opts.Admins)),
		ttl:          opts.SessionTTL,
		secureCookie: opts.SecureCookie,
		log:          log,
		now:          time.Now,
		delay:        failDelay,
		sessions:     map[string]*session{},
		failures:     map[string][]time.Time{},
	}
	for u, h := range opts.Admins {
		a.admins[u] = []byte(h)
	}
	return a
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// check verifies user and password; it takes bcrypt's time whether or
// not the user exists.
func (a *auth) check(user, password string) bool {
	hash, ok := a.admins[user]
	if !ok {
		a.dummyOnce.Do(func() {
			a.dummy, _ = bcrypt.GenerateFromPassword([]byte(randomToken()), bcrypt.DefaultCost)
		})
		_ = bcrypt.CompareHashAndPassword(a.dummy, []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// throttled reports whether ip has too many recent failures, and until
// when.
func (a *auth) throttled(ip string) (bool, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	recent := a.recentFailures(ip)
	if len(recent) >= maxFailures {
		return true, recent[len(recent)-maxFailures].Add(failWindow)
	}
	return false, time.Time{}
}

// recentFailures drops ip's failures older than the window; mu held.
func (a *auth) recentFailures(ip string) []time.Time {
	cut := a.now().Add(-failWindow)
	list := a.failures[ip]
	i := 0
	for i < len(list) && list[i].Before(cut) {
		i++
	}
	list = list[i:]
	if len(list) == 0 {
		delete(a.failures, ip)
	} else {
		a.failures[ip] = list
	}
	return list
}

func (a *auth) failed(ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures[ip] = append(a.recentFailures(ip), a.now())
	// Bound the memory an address-spraying client can make us use.
	if len(a.failures) > 10000 {
		for k := range a.failures {
			delete(a.failures, k)
			if len(a.failures) <= 5000 {
				break
			}
		}
	}
}

// login makes a new session for user.
func (a *auth) login(user string) *session {
	now := a.now()
	s := &session{id: randomToken(), user: user, csrf: randomToken(), expires: now.Add(a.ttl)}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, old := range a.sessions { // sweep expired ones
		if !now.Before(old.expires) {
			delete(a.sessions, id)
		}
	}
	a.sessions[s.id] = s
	return s
}

// session returns the request's live session, or nil.
func (a *auth) session(r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[c.Value]
	if s == nil {
		return nil
	}
	if !a.now().Before(s.expires) {
		delete(a.sessions, c.Value)
		return nil
	}
	return s
}

func (a *auth) logout(s *session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, s.id)
}

func (a *auth) setFlash(s *session, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s.flash = msg
}

func (a *auth) takeFlash(s *session) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	msg := s.flash
	s.flash = ""
	return msg
}

func (a *auth) cookie(s *session) *http.Cookie {
	c := &http.Cookie{
		Name: SessionCookie, Path: "/", HttpOnly: true, Secure: a.secureCookie, SameSite: http.SameSiteStrictMode,
	}
	if s == nil {
		c.MaxAge = -1
	} else {
		c.Value = s.id
		c.Expires = s.expires
		c.MaxAge = int(s.expires.Sub(a.now()).Seconds())
	}
	return c
}

// csrfOK checks the request's CSRF token (header or form field) against
// the session's, in constant time. The form is parsed by the caller.
func csrfOK(r *http.Request, s *session) bool {
	tok := r.Header.Get(CSRFHeader)
	if tok == "" {
		tok = r.PostFormValue(csrfField)
	}
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) == 1
}

// sameOrigin rejects a POST whose Origin header names another site (a
// second line behind SameSite cookies and the CSRF token).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// viewer wraps a read-only handler: open to everyone when the server is
// public, otherwise only to logged-in admins (API: 401; page: to /login).
func (s *Server) viewer(h func(http.ResponseWriter, *http.Request, *session), api bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.auth.session(r)
		if sess == nil && !s.opts.Public {
			if api {
				writeJSON(w, http.StatusUnauthorized, apiError{"login required"}, s.log)
			} else {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
			}
			return
		}
		h(w, r, sess)
	}
}

// admin wraps an admin POST handler: it needs a live session (401, or to
// /login for a form), a same-origin request and the session's CSRF token
// (403). Forms are parsed before h runs.
func (s *Server) admin(h func(http.ResponseWriter, *http.Request, *session), api bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		sess := s.auth.session(r)
		if sess == nil {
			if api {
				writeJSON(w, http.StatusUnauthorized, apiError{"login required"}, s.log)
			} else {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
			}
			return
		}
		if !api {
			_ = r.ParseForm()
		}
		if !sameOrigin(r) || !csrfOK(r, sess) {
			s.log.Warn().Str("user", sess.user).Str("remote", clientIP(r)).Str("path", r.URL.Path).Msg("admin request refused: bad CSRF token or origin")
			if api {
				writeJSON(w, http.StatusForbidden, apiError{"bad or missing CSRF token"}, s.log)
			} else {
				http.Error(w, "bad or missing CSRF token: reload the page and try again", http.StatusForbidden)
			}
			return
		}
		h(w, r, sess)
	}
}

func (s *Server) routeAuth() {
	s.mux.HandleFunc("GET /login", s.loginForm)
	s.mux.HandleFunc("POST /login", s.loginPost(false))
	s.mux.HandleFunc("POST /api/login", s.loginPost(true))
	s.mux.HandleFunc("POST /logout", s.admin(s.logoutPost(false), false))
	s.mux.HandleFunc("POST /api/logout", s.admin(s.logoutPost(true), true))
	s.mux.HandleFunc("GET /api/session", s.apiSession)
}

type loginData struct {
	User, Error string
	CanLogin    bool
}

func (s *Server) renderLogin(w http.ResponseWriter, code int, d loginData) {
	d.CanLogin = len(s.opts.Admins) > 0
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := loginPage.Execute(w, d); err != nil {
		s.log.Warn().Err(err).Msg("render login page")
	}
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, http.StatusOK, loginData{})
}

// sessionInfo is the body of /api/login and /api/session.
type sessionInfo struct {
	User      string    `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) loginPost(api bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		var user, password string
		if api {
			var in struct {
				User     string `json:"user"`
				Password string `json:"password"`
			}
			if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&in); err != nil {
				writeJSON(w, http.StatusBadRequest, apiError{"body must be JSON {\"user\": ..., \"password\": ...}"}, s.log)
				return
			}
			user, password = in.User, in.Password
		} else {
			user, password = r.PostFormValue("user"), r.PostFormValue("password")
		}
		ip := clientIP(r)
		if !sameOrigin(r) {
			s.fail(w, api, http.StatusForbidden, "cross-site login refused", user)
			return
		}
		if no, until := s.auth.throttled(ip); no {
			w.Header().Set("Retry-After", strconv.Itoa(int(time.Until(until).Seconds())+1))
			s.log.Warn().Str("remote", ip).Msg("login refused: too many failed attempts")
			s.fail(w, api, http.StatusTooManyRequests, "too many failed logins; try again later", user)
			return
		}
		if len(user) > 64 || len(password) > 72 || !s.auth.check(user, password) {
			s.auth.failed(ip)
			s.log.Warn().Str("remote", ip).Str("user", truncate(user, 64)).Msg("login failed")
			select { // slow down guessing; a client that gives up frees us
			case <-time.After(s.auth.delay):
			case <-r.Context().Done():
				return
			}
			s.fail(w, api, http.StatusUnauthorized, "wrong user name or password", user)
			return
		}
		sess := s.auth.login(user)
		s.log.Info().Str("remote", ip).Str("user", user).Msg("admin logged in")
		http.SetCookie(w, s.auth.cookie(sess))
		if api {
			writeJSON(w, http.StatusOK, sessionInfo{User: sess.user, CSRFToken: sess.csrf, ExpiresAt: sess.expires}, s.log)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

func (s *Server) fail(w http.ResponseWriter, api bool, code int, msg, user string) {
	if api {
		writeJSON(w, code, apiError{msg}, s.log)
		return
	}
	s.renderLogin(w, code, loginData{User: truncate(user, 64), Error: msg})
}

func (s *Server) logoutPost(api bool) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.auth.logout(sess)
		s.log.Info().Str("user", sess.user).Msg("admin logged out")
		http.SetCookie(w, s.auth.cookie(nil))
		if api {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) {
	sess := s.auth.session(r)
	if sess == nil {
		writeJSON(w, http.StatusUnauthorized, apiError{"not logged in"}, s.log)
		return
	}
	writeJSON(w, http.StatusOK, sessionInfo{User: sess.user, CSRFToken: sess.csrf, ExpiresAt: sess.expires}, s.log)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
