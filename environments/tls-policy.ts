// One TLS policy for every listener the lab runs (NFR-SEC-001): TLS 1.2 minimum, and for TLS 1.2
// only ECDHE key exchange with AEAD ciphers (Mozilla "intermediate"). TLS 1.3 suites are all AEAD.
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
