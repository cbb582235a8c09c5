package objstore

import (
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Test-only access for objstore_test, which cannot be an internal test:
// tests/harness imports objstore.

// SetVerifyLocally turns the streaming size and SHA-256 check of Put on or
// off, so that tests can reach the server-side checks.
func (s *S3) SetVerifyLocally(v bool) { s.verifyLocally = v }

// RawClient returns the SDK client.
func (s *S3) RawClient() *s3.Client { return s.client }

// TransferManager returns the transfer manager Put uses.
func (s *S3) TransferManager() *transfermanager.Client { return s.tm }

// FullKey returns the bucket key of key.
func (s *S3) FullKey(key string) string { return s.fullKey(key) }

// IsChecksumCode reports whether code is a server's checksum rejection.
func IsChecksumCode(code string) bool { return checksumCodes[code] }

// SHA256Base64 converts a hex SHA-256 to the base64 S3 uses.
var SHA256Base64 = sha256Base64

// CopySource is the x-amz-copy-source value of bucket and key.
var CopySource = copySource

// DecodeKey decodes a listed key by the response's EncodingType.
var DecodeKey = decodeKey
