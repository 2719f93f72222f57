package trust

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
)

// EnrolPath is where EnrolHandler answers.
const EnrolPath = "/site/v1/enrol"

const maxEnrolBody = 64 << 10

// enrolRequest is the body of POST /site/v1/enrol. Only the token's secret
// travels; the address and fingerprint stay with the joiner.
type enrolRequest struct {
	Secret string `json:"secret"` // base64url, no padding
	Wing   string `json:"wing"`
	CSR    string `json:"csr"` // PEM
}

type enrolResponse struct {
	Cert string `json:"cert"` // PEM wing certificate
	CA   string `json:"ca"`   // PEM site CA certificate
}

// EnrolHandler serves POST /site/v1/enrol: it takes a token secret, a wing
// id and a certificate request, and answers with the wing certificate and
// the site CA certificate, consuming the token. A malformed request or CSR
// gets 400 and a sentence; an unknown, used or expired token, and a wing
// id that holds an unrevoked certificate (the token is then not consumed),
// get 403 "enrolment refused" and no more, so an answer tells a caller
// nothing of the site's tokens or wings: why is in the CA wing's log
// (log, nil for slog.Default()). It never logs or echoes the token.
func (a *Authority) EnrolHandler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != EnrolPath {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "enrolment takes POST", http.StatusMethodNotAllowed)
			return
		}
		var req enrolRequest
		if err := api.ReadJSON(w, r, &req, api.Body{Limit: maxEnrolBody}); err != nil {
			var be *api.BodyError
			errors.As(err, &be)
			http.Error(w, "malformed enrolment request: "+be.Sentence+"; expected JSON with secret, wing and csr", be.Status)
			return
		}
		status, body, err := a.enrol(req)
		if status == http.StatusForbidden {
			log.Warn("enrolment refused", "from", r.RemoteAddr, "why", err)
			http.Error(w, ErrEnrolmentRefused.Error(), status)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
}

func (a *Authority) enrol(req enrolRequest) (int, *enrolResponse, error) {
	secret, err := base64.RawURLEncoding.DecodeString(req.Secret)
	if err != nil || len(secret) != secretLen {
		return http.StatusBadRequest, nil, errors.New("malformed enrolment request: the token secret is not one")
	}
	if !event.ValidID(req.Wing) {
		return http.StatusBadRequest, nil, fmt.Errorf("wing id %q: use 1-64 letters, digits, '.', '_' or '-'", req.Wing)
	}
	blk, _ := pem.Decode([]byte(req.CSR))
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		return http.StatusBadRequest, nil, errors.New("malformed certificate request: expected one PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return http.StatusBadRequest, nil, fmt.Errorf("malformed certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return http.StatusBadRequest, nil, fmt.Errorf("certificate request signature does not verify: %w", err)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return http.StatusBadRequest, nil, errors.New("certificate request: use an ECDSA P-256 or Ed25519 key")
		}
	case ed25519.PublicKey:
	default:
		return http.StatusBadRequest, nil, errors.New("certificate request: use an ECDSA P-256 or Ed25519 key")
	}

	unlock, err := lockDir(a.dir)
	if err != nil {
		return http.StatusInternalServerError, nil, errors.New("enrolment store unavailable; try again")
	}
	defer unlock()
	if err := a.checkToken(secret); err != nil {
		if errors.Is(err, errTokenUnknown) || errors.Is(err, errTokenUsed) || errors.Is(err, errTokenExpired) {
			return http.StatusForbidden, nil, err
		}
		return http.StatusInternalServerError, nil, errors.New("enrolment token store unreadable; see the CA wing's disk")
	}
	der, err := a.issue(req.Wing, csr.PublicKey)
	if err != nil {
		if errors.Is(err, ErrAlreadyEnrolled) {
			return http.StatusForbidden, nil, err
		}
		return http.StatusInternalServerError, nil, fmt.Errorf("could not issue the certificate: %w", err)
	}
	if err := a.consumeToken(secret); err != nil {
		if errors.Is(err, errTokenUsed) {
			return http.StatusForbidden, nil, err
		}
		return http.StatusInternalServerError, nil, errors.New("could not consume the enrolment token; try again")
	}
	return http.StatusOK, &enrolResponse{Cert: string(certPEM(der)), CA: string(certPEM(a.cert.Raw))}, nil
}

// ErrEnrolmentRefused is the whole answer to an enrolment refused for its
// token or its wing id.
var ErrEnrolmentRefused = errors.New("enrolment refused: ask site IT for a new token (the CA wing's log says why)")

// EnrolError is a refusal by the enrolling wing, with its HTTP status and
// message.
type EnrolError struct {
	Status  int
	Message string
}

func (e *EnrolError) Error() string {
	return fmt.Sprintf("trust: enrolment refused (%d %s): %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Join enrols this wing as wing at the address carried by token: it pins the
// site CA by the token's fingerprint before sending anything, presents the
// token's secret and a certificate request, checks the answer and stores the
// identity in dir (key 0600). A nil dial dials directly. Refusals by the
// enrolling wing are *EnrolError.
func Join(ctx context.Context, dir, wing, token string, dial DialFunc) (*Identity, error) {
	t, err := ParseToken(token)
	if err != nil {
		return nil, fmt.Errorf("trust: join: %w", err)
	}
	if !event.ValidID(wing) {
		return nil, fmt.Errorf("trust: join: wing id %q: use 1-64 letters, digits, '.', '_' or '-'", wing)
	}
	if err := refuseExisting(dir); err != nil {
		return nil, err
	}
	if dial == nil {
		dial = Routes(nil)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("trust: join: generate key: %w", err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: wing}}, key)
	if err != nil {
		return nil, fmt.Errorf("trust: join: certificate request: %w", err)
	}
	body, err := json.Marshal(enrolRequest{
		Secret: base64.RawURLEncoding.EncodeToString(t.secret[:]),
		Wing:   wing,
		CSR:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})),
	})
	if err != nil {
		return nil, fmt.Errorf("trust: join: %w", err)
	}

	var pinned *x509.Certificate
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{ProtoHTTP},
		// The server is checked against the CA pinned by fingerprint below.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			ca, err := verifyPinned(cs.PeerCertificates, t.CAFingerprint)
			if err != nil {
				return err
			}
			pinned = ca
			return nil
		},
	}
	client := &http.Client{Transport: &http.Transport{
		DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			raw, err := dial(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			c := tls.Client(raw, cfg)
			if err := c.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return c, nil
		},
		DisableKeepAlives: true,
	}}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+t.Addr+EnrolPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("trust: join: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// url.Error quotes the URL, which holds only the address.
		return nil, fmt.Errorf("trust: join: enrol at %s: %w", t.Addr, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxEnrolBody))
	if err != nil {
		return nil, fmt.Errorf("trust: join: enrol at %s: %w", t.Addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(rb))
		if len(msg) > 512 {
			msg = msg[:512]
		}
		return nil, &EnrolError{Status: resp.StatusCode, Message: msg}
	}
	var out enrolResponse
	if err := json.Unmarshal(rb, &out); err != nil {
		return nil, fmt.Errorf("trust: join: enrol at %s: unreadable answer: %w", t.Addr, err)
	}
	ca, err := parseCertPEM([]byte(out.CA))
	if err != nil || Fingerprint(ca) != t.CAFingerprint || pinned == nil || !ca.Equal(pinned) {
		return nil, fmt.Errorf("trust: join: enrol at %s: the answer's site CA does not match the token", t.Addr)
	}
	leaf, err := parseCertPEM([]byte(out.Cert))
	if err != nil {
		return nil, fmt.Errorf("trust: join: enrol at %s: unreadable wing certificate: %w", t.Addr, err)
	}
	id, err := newIdentity(key, leaf.Raw, ca.Raw)
	if err != nil {
		return nil, fmt.Errorf("trust: join: enrol at %s: %w", t.Addr, err)
	}
	if id.wing != wing {
		return nil, fmt.Errorf("trust: join: enrol at %s: certificate names wing %s, not %s", t.Addr, id.wing, wing)
	}
	if err := id.save(dir); err != nil {
		return nil, err
	}
	return id, nil
}

// ErrCAMismatch is returned (wrapped) by Join when the enrolling wing does
// not hold the site CA named by the token's fingerprint.
var ErrCAMismatch = errors.New("the enrolling wing's site CA does not match the token's fingerprint")

// verifyPinned finds the CA with the pinned fingerprint among the server's
// certificates and checks the server's leaf against it.
func verifyPinned(certs []*x509.Certificate, fp [32]byte) (*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, fmt.Errorf("trust: %w: no certificate presented", ErrCAMismatch)
	}
	var ca *x509.Certificate
	for _, c := range certs[1:] {
		if Fingerprint(c) == fp {
			ca = c
		}
	}
	if ca == nil {
		return nil, fmt.Errorf("trust: %w: wrong site or address, or a device in between; check the token", ErrCAMismatch)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	at := time.Now()
	for _, c := range []*x509.Certificate{certs[0], ca} {
		if at.Before(c.NotBefore) {
			at = c.NotBefore
		}
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, fmt.Errorf("trust: %w: %w", ErrCAMismatch, err)
	}
	return ca, nil
}
