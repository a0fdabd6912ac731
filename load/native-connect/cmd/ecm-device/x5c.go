package main

// The operational certificate from step-ca's X5C provisioner (simulators/client/x5c-sign.ts): a
// one-time token signed with the bootstrap key, carrying the bootstrap chain in its x5c header,
// authorizes POST /1.0/sign (at the provisioning service, which forwards it and records it).

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

type caRefusal struct {
	status int
	detail string
}

func (e *caRefusal) Error() string {
	return fmt.Sprintf("step-ca refused the request (HTTP %d): %s", e.status, e.detail)
}
func (e *caRefusal) Name() string { return "CaRefusalError" }

type x5cClaims struct {
	Sans []string `json:"sans"`
	Iss  string   `json:"iss"`
	Sub  string   `json:"sub"`
	Aud  string   `json:"aud"`
	Iat  int64    `json:"iat"`
	Nbf  int64    `json:"nbf"`
	Exp  int64    `json:"exp"`
	Jti  string   `json:"jti"`
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// x5cToken is the one-time token: the chain's DER, standard base64, in x5c (RFC 7515 §4.1.6).
func x5cToken(bootstrapKey *ecdsa.PrivateKey, chainPEM []byte, provisioner, audience, subject string, sans []string, now time.Time) (string, error) {
	var x5c []string
	for rest := chainPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			x5c = append(x5c, base64.StdEncoding.EncodeToString(block.Bytes))
		}
	}
	if len(x5c) == 0 {
		return "", fmt.Errorf("the bootstrap certificate chain holds no certificate")
	}
	t := now.Unix()
	header := map[string]any{"alg": "ES256", "typ": "JWT", "x5c": x5c}
	return compact(bootstrapKey, header, x5cClaims{Sans: sans, Iss: provisioner, Sub: subject, Aud: audience, Iat: t, Nbf: t - 30, Exp: t + 300, Jti: uuid()})
}

// sign asks for the operational certificate and returns its chain (PEM, leaf first).
func sign(client *http.Client, signURL string, csrPEM []byte, ott string) ([]byte, error) {
	body, _ := json.Marshal(map[string]string{"csr": string(csrPEM), "ott": ott})
	res, err := client.Post(strings.TrimRight(signURL, "/")+"/1.0/sign", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		var problem struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		}
		detail := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &problem) == nil && (problem.Message != "" || problem.Detail != "") {
			detail = problem.Message + problem.Detail
		}
		return nil, &caRefusal{status: res.StatusCode, detail: detail}
	}
	var signed struct {
		Crt       string   `json:"crt"`
		CA        string   `json:"ca"`
		CertChain []string `json:"certChain"`
	}
	if err := json.Unmarshal(data, &signed); err != nil {
		return nil, err
	}
	chain := signed.CertChain
	if len(chain) == 0 {
		chain = []string{signed.Crt, signed.CA}
	}
	var out strings.Builder
	for _, c := range chain {
		out.WriteString(strings.TrimSpace(c) + "\n")
	}
	return []byte(out.String()), nil
}
