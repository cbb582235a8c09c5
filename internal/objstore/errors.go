package objstore

import (
	"context"
	"errors"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"io"
	"net/http"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// permanentCodes are S3 error codes that no amount of waiting fixes: the
// request, the credentials, the bucket or the data is wrong.
var permanentCodes = map[string]bool{
	"AccessDenied":                true,
	"AccountProblem":              true,
	"AllAccessDisabled":           true,
	"BadDigest":                   true,
	"EntityTooLarge":              true,
	"EntityTooSmall":              true,
	"IncompleteBody":              true,
	"InvalidAccessKeyId":          true,
	"InvalidArgument":             true,
	"InvalidBucketName":           true,
	"InvalidDigest":               true,
	"InvalidObjectState":          true,
	"InvalidPart":                 true,
	"InvalidPartOrder":            true,
	"InvalidRequest":              true,
	"InvalidToken":                true,
	"KeyTooLongError":             true,
	"MalformedXML":                true,
	"MethodNotAllowed":            true,
	"MissingContentLength":        true,
	"NoSuchBucket":                true,
	"NoSuchKey":                   true,
	"NoSuchUpload":                true,
	"NotFound":                    true,
	"PreconditionFailed":          true,
	"SignatureDoesNotMatch":       true,
	"XAmzContentChecksumMismatch": true,
	"XAmzContentSHA256Mismatch":   true,
	"XMinioInvalidObjectName":     true,
	"XMinioStorageFull":           true, // a full disk needs a person
}

// transientCodes are S3 (and MinIO) error codes that mean "not now".
var transientCodes = map[string]bool{
	"BandwidthLimitExceeded":                 true,
	"ExpiredToken":                           true, // temporary credentials are refreshed
	"InternalError":                          true,
	"OperationAborted":                       true,
	"PriorRequestNotComplete":                true,
	"RequestLimitExceeded":                   true,
	"RequestThrottled":                       true,
	"RequestThrottledException":              true,
	"RequestTimeTooSkewed":                   true, // a box without RTC before NTP has synced
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
	"ServiceUnavailable":                     true,
	"SlowDown":                               true,
	"Throttling":                             true,
	"ThrottlingException":                    true,
	"TooManyRequestsException":               true,
	"XMinioServerNotInitialized":             true,
	"XMinioReadQuorum":                       true,
	"XMinioWriteQuorum":                      true,
	"XMinioAdminRemoteTargetConnectionError": true,
}

// checksumCodes are the codes with which S3-compatible servers reject a
// body whose checksum differs from the one sent with it.
var checksumCodes = map[string]bool{
	"BadDigest":                   true,
	"InvalidDigest":               true,
	"XAmzContentChecksumMismatch": true,
	"XAmzContentSHA256Mismatch":   true,
}

// preconditionCodes are the codes with which S3-compatible servers refuse
// a conditional write: 412 PreconditionFailed, and 409
// ConditionalRequestConflict when another conditional write to the key
// is in progress.
var preconditionCodes = map[string]bool{
	"PreconditionFailed":         true,
	"ConditionalRequestConflict": true,
}

// isPreconditionFailure reports whether the server refused a conditional
// write.
func isPreconditionFailure(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && preconditionCodes[apiErr.ErrorCode()] {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed
}

// sdkRetryables is the SDK retryer's own classification of connection
// errors, used so that IsRetryable and the retryer agree.
var sdkRetryables = retry.IsErrorRetryables{
	retry.NoRetryCanceledError{},
	retry.RetryableConnectionError{},
}

// IsRetryable reports whether err is transient: worth scheduling the same
// operation again later (network errors, timeouts, 5xx, throttling,
// RequestTimeout, SlowDown). It is false for errors that need a person or a
// different input (AccessDenied, NoSuchBucket, InvalidAccessKeyId,
// SignatureDoesNotMatch, checksum and size mismatches, invalid input,
// ErrNotFound), for a cancelled context, and for errors it does not know.
//
// It classifies; it does not retry. Requests have already been retried by
// the SDK (see the package documentation). Safe for concurrent use.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	// Our own verdicts first: they are never transient.
	for _, perm := range []error{context.Canceled, ErrNotFound, ErrChecksumMismatch, ErrSizeMismatch, ErrInvalidKey, ErrInvalidInput, ErrPreconditionFailed} {
		if errors.Is(err, perm) {
			return false
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrReplicasBehind) {
		return true
	}

	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		if transientCodes[code] {
			return true
		}
		if permanentCodes[code] {
			return false
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		switch code := status.HTTPStatusCode(); {
		case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
			return true
		case code >= 500 && code != http.StatusNotImplemented:
			return true
		case code >= 400:
			return false
		}
	}
	// The SDK validates response checksums (GetObject); its error type is
	// unexported.
	if strings.Contains(err.Error(), "checksum did not match") {
		return false
	}
	if v := sdkRetryables.IsErrorRetryable(err); v != aws.UnknownTernary {
		return v.Bool()
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH):
		return true
	}
	// The retryer gives up with a MaxAttemptsError wrapping the last error,
	// which the checks above have already classified through Unwrap.
	return false
}

// isConditionRefusal reports whether err is a server refusing a
// conditional request for its condition header: 501 Not Implemented, or
// a 400 whose code names the header or a feature it lacks.
func isConditionRefusal(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotImplemented {
		return true
	}
	return isCode(err, "NotImplemented") || isCode(err, "InvalidArgument") && strings.Contains(err.Error(), "If-Match")
}

// isNotFound reports whether err says the key is absent (HEAD answers 404
// "NotFound" without a body; GET answers "NoSuchKey").
func isNotFound(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		}
	}
	return false
}

// isChecksumRejection reports whether the server rejected a body because its
// checksum did not match.
func isChecksumRejection(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && checksumCodes[apiErr.ErrorCode()]
}

// isChecksumHeaderRefusal reports whether err is a server refusing a
// request for carrying checksum headers at all (not for a checksum that
// does not match its body): Backblaze B2's 400 InvalidArgument
// "Unsupported header 'x-amz-checksum-crc32' received for this API call."
// (also for x-amz-sdk-checksum-algorithm and x-amz-checksum-mode), or a
// NotImplemented that names a checksum.
func isChecksumHeaderRefusal(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || checksumCodes[apiErr.ErrorCode()] {
		return false
	}
	switch apiErr.ErrorCode() {
	case "InvalidArgument", "InvalidRequest", "NotImplemented", "UnsupportedHeader":
	default:
		return false
	}
	msg := strings.ToLower(apiErr.ErrorMessage())
	return strings.Contains(msg, "x-amz-checksum") || strings.Contains(msg, "x-amz-sdk-checksum") ||
		strings.Contains(msg, "x-amz-trailer") || strings.Contains(msg, "checksum") && strings.Contains(msg, "header")
}

// isCode reports whether err is an API error with the given code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

// hint is a short human explanation of a failure the station can fix on
// its side, with a leading separator, or "" when none applies. It names
// what to check without repeating any secret.
func hint(err error) string {
	var re *smithyhttp.ResponseError
	code := ""
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	switch {
	case code == "NoSuchBucket":
		return " (the bucket does not exist: create it or fix target.bucket)"
	case code == "InvalidAccessKeyId":
		return " (the endpoint does not know this access key: check target.access_key_id)"
	case code == "SignatureDoesNotMatch":
		return " (wrong secret for this access key: check target.secret_access_key)"
	case code == "AccessDenied", errors.As(err, &re) && re.HTTPStatusCode() == 403:
		return " (access denied: check the target's credentials and the bucket policy for this prefix)"
	}
	return ""
}
