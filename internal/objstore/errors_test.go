package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"
)

// apiErr builds what the SDK returns for an S3 error response: an API error
// with the code, inside a ResponseError with the status.
func apiErr(status int, code string) error {
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: "PutObject",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      &smithy.GenericAPIError{Code: code, Message: "test"},
			},
			RequestID: "req",
		},
	}
}

// statusErr is a response error without an API error code (HEAD has no
// body).
func statusErr(status int) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      errors.New("http error"),
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},

		// transient: network
		{"connection refused", &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, true},
		{"dns timeout", &net.DNSError{Err: "timeout", Name: "s3.example", IsTimeout: true}, true},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), true},
		{"deadline exceeded", fmt.Errorf("put %q: %w", "k", context.DeadlineExceeded), true},
		{"retries exhausted on 503", &smithy.OperationError{Err: &retry.MaxAttemptsError{Attempt: 5, Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("x")}}}}, true},

		// transient: server
		{"500 InternalError", apiErr(500, "InternalError"), true},
		{"503 SlowDown", apiErr(503, "SlowDown"), true},
		{"503 ServiceUnavailable", apiErr(503, "ServiceUnavailable"), true},
		{"400 RequestTimeout", apiErr(400, "RequestTimeout"), true},
		{"400 Throttling", apiErr(400, "Throttling"), true},
		{"429 no code", statusErr(429), true},
		{"502 no code", statusErr(502), true},
		{"503 MinIO not initialized", apiErr(503, "XMinioServerNotInitialized"), true},
		{"403 RequestTimeTooSkewed", apiErr(403, "RequestTimeTooSkewed"), true},

		// permanent
		{"403 AccessDenied", apiErr(403, "AccessDenied"), false},
		{"404 NoSuchBucket", apiErr(404, "NoSuchBucket"), false},
		{"403 InvalidAccessKeyId", apiErr(403, "InvalidAccessKeyId"), false},
		{"403 SignatureDoesNotMatch", apiErr(403, "SignatureDoesNotMatch"), false},
		{"400 BadDigest", apiErr(400, "BadDigest"), false},
		{"400 XAmzContentChecksumMismatch", apiErr(400, "XAmzContentChecksumMismatch"), false},
		{"400 InvalidArgument", apiErr(400, "InvalidArgument"), false},
		{"507 MinIO storage full", apiErr(507, "XMinioStorageFull"), false},
		{"typed NoSuchBucket", fmt.Errorf("list: %w", &s3types.NoSuchBucket{}), false},
		{"404 no code", statusErr(404), false},
		{"501 NotImplemented", statusErr(501), false},
		{"unknown 4xx code", apiErr(400, "SomethingNew"), false},
		{"GET checksum validation", errors.New("checksum did not match: algorithm SHA256, expect a, actual b"), false},
		{"local checksum mismatch", fmt.Errorf("put %q: %w", "k", ErrChecksumMismatch), false},
		{"server checksum mismatch", fmt.Errorf("put %q: %w: %w", "k", ErrChecksumMismatch, apiErr(400, "BadDigest")), false},
		{"size mismatch", fmt.Errorf("put %q: %w", "k", ErrSizeMismatch), false},
		{"not found", fmt.Errorf("head %q: %w", "k", ErrNotFound), false},
		{"invalid key", fmt.Errorf("put %q: %w", "", ErrInvalidKey), false},
		{"context canceled", fmt.Errorf("put %q: %w", "k", context.Canceled), false},
		{"sdk canceled", &smithy.OperationError{Err: &smithy.CanceledError{Err: context.Canceled}}, false},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, false},
		{"unknown error", errors.New("something odd"), false},
		{"caller body error", fmt.Errorf("put %q: %w", "k", errors.New("disk read failed")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, IsRetryable(tc.err), "%v", tc.err)
		})
	}
}

func TestIsNotFound(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"head 404", apiErr(404, "NotFound"), true},
		{"get NoSuchKey", apiErr(404, "NoSuchKey"), true},
		{"typed NoSuchKey", &s3types.NoSuchKey{}, true},
		{"NoSuchBucket is not a missing key", apiErr(404, "NoSuchBucket"), false},
		{"other", errors.New("x"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, isNotFound(tc.err))
		})
	}
}
