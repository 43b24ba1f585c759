package sicoob

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"baixa"
)

// Secret names of a Sicoob connection: a PFX (base64) with its password, or
// a PEM certificate (chain) with its PEM private key.
const (
	SecretPFX         = "certificate_pfx"
	SecretPFXPassword = "certificate_password"
	SecretCertPEM     = "certificate_pem"
	SecretKeyPEM      = "private_key_pem"
)

// LoadCertificate reads the client certificate from a connection's
// secrets and checks that it is valid at now. Errors name the secret at
// fault and never quote it.
func LoadCertificate(secrets map[string]string, now time.Time) (tls.Certificate, error) {
	var cert tls.Certificate
	switch {
	case secrets[SecretPFX] != "":
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(secrets[SecretPFX]), ""))
		if err != nil {
			return cert, baixa.FieldError("secrets."+SecretPFX, "not base64: give the PFX (PKCS#12) file's bytes in base64")
		}
		key, leaf, chain, err := pkcs12.DecodeChain(raw, secrets[SecretPFXPassword])
		if err != nil {
			if strings.Contains(err.Error(), "password") {
				return cert, baixa.FieldError("secrets."+SecretPFXPassword, "does not open the PFX file")
			}
			return cert, baixa.FieldError("secrets."+SecretPFX, "not a readable PFX (PKCS#12) file: %v", err)
		}
		cert = tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
		for _, c := range chain {
			cert.Certificate = append(cert.Certificate, c.Raw)
		}
	case secrets[SecretCertPEM] != "" || secrets[SecretKeyPEM] != "":
		if secrets[SecretCertPEM] == "" || secrets[SecretKeyPEM] == "" {
			return cert, baixa.FieldError("secrets", "give both %s and %s", SecretCertPEM, SecretKeyPEM)
		}
		var err error
		cert, err = tls.X509KeyPair([]byte(secrets[SecretCertPEM]), []byte(secrets[SecretKeyPEM]))
		if err != nil {
			return cert, baixa.FieldError("secrets."+SecretCertPEM, "the PEM certificate and key do not make a pair: %v", err)
		}
	default:
		return cert, baixa.FieldError("secrets", "the client certificate is required: %s with %s, or %s with %s",
			SecretPFX, SecretPFXPassword, SecretCertPEM, SecretKeyPEM)
	}
	if cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return cert, baixa.FieldError("secrets", "the certificate does not parse: %v", err)
		}
		cert.Leaf = leaf
	}
	if now.After(cert.Leaf.NotAfter) {
		return cert, baixa.FieldError("secrets", "the certificate expired on %s", cert.Leaf.NotAfter.Format(time.DateOnly))
	}
	if now.Before(cert.Leaf.NotBefore) {
		return cert, baixa.FieldError("secrets", "the certificate is valid only from %s", cert.Leaf.NotBefore.Format(time.RFC3339))
	}
	return cert, nil
}

// PKI is a certificate authority with a server and a client certificate,
// made for the sandbox, tests and the demo.
type PKI struct {
	CAPEM             []byte
	ServerCert        tls.Certificate
	ClientCertPEM     []byte
	ClientKeyPEM      []byte
	ClientPFX         []byte // the client certificate and key as PKCS#12
	ClientPFXPassword string
	ClientNotAfter    time.Time
	caCert            *x509.Certificate
	caKey             crypto.Signer
}

// NewPKI makes a CA, a server certificate for the given hosts (names or IP
// addresses) and a client certificate valid for validFor.
func NewPKI(hosts []string, validFor time.Duration) (*PKI, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "baixa Sicoob sandbox CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &PKI{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), caCert: ca, caKey: caKey}

	srvKey, srvDER, err := p.issue(pkix.Name{CommonName: "sicoob sandbox"}, hosts, x509.ExtKeyUsageServerAuth, now.Add(10*365*24*time.Hour))
	if err != nil {
		return nil, err
	}
	p.ServerCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}

	p.ClientNotAfter = now.Add(validFor).Truncate(time.Second)
	cliKey, cliDER, err := p.issue(pkix.Name{CommonName: "baixa client", Organization: []string{"Cooperado"}}, nil, x509.ExtKeyUsageClientAuth, p.ClientNotAfter)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		return nil, err
	}
	p.ClientCertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cliDER})
	p.ClientKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	leaf, _ := x509.ParseCertificate(cliDER)
	pw := make([]byte, 8)
	_, _ = rand.Read(pw)
	p.ClientPFXPassword = fmt.Sprintf("pfx-%x", pw)
	if p.ClientPFX, err = pkcs12.Modern.Encode(cliKey, leaf, []*x509.Certificate{ca}, p.ClientPFXPassword); err != nil {
		return nil, err
	}
	return p, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func (p *PKI) issue(subject pkix.Name, hosts []string, usage x509.ExtKeyUsage, notAfter time.Time) (crypto.Signer, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("issue certificate: %w", err)
	}
	return key, der, nil
}

// ClientSecrets returns the client certificate as a connection's secrets
// (the PFX form).
func (p *PKI) ClientSecrets() map[string]string {
	return map[string]string{SecretPFX: base64.StdEncoding.EncodeToString(p.ClientPFX), SecretPFXPassword: p.ClientPFXPassword}
}

// ServerTLS is the sandbox's TLS configuration: it asks for a client
// certificate signed by the CA.
func (p *PKI) ServerTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	return &tls.Config{Certificates: []tls.Certificate{p.ServerCert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven,
		MinVersion: tls.VersionTLS12}
}
