package main

// The device's ACME client (RFC 8555), as lean as the Node one (simulators/client/acme-flow.ts):
// one kept-alive connection for the flow and the X5C request after it, every request from the
// device's own loopback address, the directory read once, each answer's Replay-Nonce used for the
// next request, no poll when the server's answer already says valid.

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// refusedError is the provisioning service's refusal (OFF, not white-listed): its RFC 7807 detail.
type refusedError struct {
	status int
	detail string
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("provisioning refused (HTTP %d): %s", e.status, e.detail)
}
func (e *refusedError) Name() string { return "ProvisioningRefusedError" }

type acmeProblem struct {
	status  int
	problem string
	detail  string
}

func (e *acmeProblem) Error() string { return e.detail }
func (e *acmeProblem) Name() string  { return "AcmeProblemError" }

type directory struct {
	NewNonce   string `json:"newNonce"`
	NewAccount string `json:"newAccount"`
	NewOrder   string `json:"newOrder"`
}

type order struct {
	url            string
	Status         string   `json:"status"`
	Authorizations []string `json:"authorizations"`
	Finalize       string   `json:"finalize"`
	Certificate    string   `json:"certificate"`
}

type acmeClient struct {
	http  *http.Client
	key   *ecdsa.PrivateKey
	jwk   jwk
	dir   directory
	nonce string
	kid   string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (c *acmeClient) do(method, url string, body []byte) (answer, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("content-type", "application/jose+json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return answer{status: res.StatusCode, header: res.Header, body: data}, err
}

func problemOf(a answer) (string, string) {
	var p struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(a.body, &p) == nil && p.Detail != "" {
		return p.Type, p.Detail
	}
	return p.Type, string(a.body)
}

// directory reads the gated directory; a refusal is surfaced with the gate's detail.
func (c *acmeClient) directory(url string) error {
	a, err := c.do(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		_, detail := problemOf(a)
		return &refusedError{status: a.status, detail: detail}
	}
	return json.Unmarshal(a.body, &c.dir)
}

func (c *acmeClient) freshNonce() (string, error) {
	if n := c.nonce; n != "" {
		c.nonce = ""
		return n, nil
	}
	a, err := c.do(http.MethodHead, c.dir.NewNonce, nil)
	if err != nil {
		return "", err
	}
	n := a.header.Get("Replay-Nonce")
	if n == "" {
		return "", fmt.Errorf("newNonce answered HTTP %d without a Replay-Nonce", a.status)
	}
	return n, nil
}

// post is a signed POST (payload nil: POST-as-GET); a badNonce answer is retried with its nonce.
func (c *acmeClient) post(url string, payload any, expect ...int) (answer, error) {
	if len(expect) == 0 {
		expect = []int{http.StatusOK}
	}
	for attempt := 1; ; attempt++ {
		nonce, err := c.freshNonce()
		if err != nil {
			return answer{}, err
		}
		header := map[string]any{"alg": "ES256", "nonce": nonce, "url": url}
		if c.kid != "" {
			header["kid"] = c.kid
		} else {
			header["jwk"] = c.jwk
		}
		body, err := flattened(c.key, header, payload)
		if err != nil {
			return answer{}, err
		}
		a, err := c.do(http.MethodPost, url, body)
		if err != nil {
			return answer{}, err
		}
		if n := a.header.Get("Replay-Nonce"); n != "" {
			c.nonce = n
		}
		for _, s := range expect {
			if a.status == s {
				return a, nil
			}
		}
		typ, detail := problemOf(a)
		if typ == "urn:ietf:params:acme:error:badNonce" && attempt < 3 {
			continue
		}
		return answer{}, &acmeProblem{status: a.status, problem: typ, detail: detail}
	}
}

// emptyPayload is the "{}" of a challenge response (RFC 8555 §7.5.1), unlike POST-as-GET's "".
var emptyPayload = struct{}{}

func (c *acmeClient) account() error {
	a, err := c.post(c.dir.NewAccount, map[string]bool{"termsOfServiceAgreed": true}, 200, 201)
	if err != nil {
		return err
	}
	if c.kid = a.header.Get("Location"); c.kid == "" {
		return errors.New("newAccount answered without a Location")
	}
	return nil
}

func (c *acmeClient) newOrder(ip string) (*order, error) {
	a, err := c.post(c.dir.NewOrder, map[string]any{"identifiers": []map[string]string{{"type": "ip", "value": ip}}}, 201)
	if err != nil {
		return nil, err
	}
	o := &order{url: a.header.Get("Location")}
	return o, json.Unmarshal(a.body, o)
}

// pollUntil polls url (POST-as-GET) until done, backing off 50 ms .. 1 s, 30 times.
func (c *acmeClient) pollUntil(url, what string, into any, status func() string, done func() bool) error {
	for i := 0; i < 30; i++ {
		time.Sleep(min(time.Second, 50*time.Millisecond<<i))
		a, err := c.post(url, nil)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(a.body, into); err != nil {
			return err
		}
		if status() == "invalid" {
			return fmt.Errorf("%s became invalid", what)
		}
		if done() {
			return nil
		}
	}
	return fmt.Errorf("%s was not valid after 30 polls", what)
}

// challenges is where the device's http-01 tokens are served: the lab's one responder.
type challenges interface {
	publish(token, keyAuthorization string) error
	remove(token string)
}

// validate serves the http-01 challenge of each authorization and answers it.
func (c *acmeClient) validate(o *order, serve challenges, identifier string) error {
	for _, authzURL := range o.Authorizations {
		a, err := c.post(authzURL, nil)
		if err != nil {
			return err
		}
		var authz struct {
			Status     string `json:"status"`
			Challenges []struct {
				Type  string `json:"type"`
				URL   string `json:"url"`
				Token string `json:"token"`
			} `json:"challenges"`
		}
		if err := json.Unmarshal(a.body, &authz); err != nil {
			return err
		}
		if authz.Status == "valid" {
			continue
		}
		i := -1
		for k, ch := range authz.Challenges {
			if ch.Type == "http-01" {
				i = k
				break
			}
		}
		if i < 0 {
			return fmt.Errorf("the ACME server offered no http-01 challenge for %s", identifier)
		}
		ch := authz.Challenges[i]
		if err := serve.publish(ch.Token, ch.Token+"."+c.jwk.thumbprint()); err != nil {
			return err
		}
		err = func() error {
			defer serve.remove(ch.Token)
			a, err := c.post(ch.URL, emptyPayload)
			if err != nil {
				return err
			}
			var answered struct {
				Status string `json:"status"`
				Error  struct {
					Detail string `json:"detail"`
				} `json:"error"`
			}
			if err := json.Unmarshal(a.body, &answered); err != nil {
				return err
			}
			if answered.Status == "invalid" {
				return fmt.Errorf("the http-01 challenge of %s is invalid: %s", identifier, answered.Error.Detail)
			}
			if answered.Status != "valid" {
				var polled struct {
					Status string `json:"status"`
				}
				return c.pollUntil(authzURL, "the authorization of "+identifier, &polled, func() string { return polled.Status }, func() bool { return polled.Status == "valid" })
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// finalize sends the CSR (DER) and downloads the chain (PEM).
func (c *acmeClient) finalize(o *order, csrDER []byte) ([]byte, error) {
	a, err := c.post(o.Finalize, map[string]string{"csr": b64.EncodeToString(csrDER)})
	if err != nil {
		return nil, err
	}
	var f order
	if err := json.Unmarshal(a.body, &f); err != nil {
		return nil, err
	}
	if f.Status == "invalid" {
		return nil, fmt.Errorf("order %s became invalid at finalize", o.url)
	}
	if f.Status != "valid" || f.Certificate == "" {
		if err := c.pollUntil(o.url, "order "+o.url, &f, func() string { return f.Status }, func() bool { return f.Status == "valid" && f.Certificate != "" }); err != nil {
			return nil, err
		}
	}
	cert, err := c.post(f.Certificate, nil)
	if err != nil {
		return nil, err
	}
	return cert.body, nil
}
