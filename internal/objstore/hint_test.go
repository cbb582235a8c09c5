package objstore

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"
)

func TestHintNamesTheFix(t *testing.T) {
	status := func(code int) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: fmt.Errorf("boom")}
	}
	cases := []struct {
		err  error
		want string
	}{
		{&smithy.GenericAPIError{Code: "NoSuchBucket"}, "bucket does not exist"},
		{&smithy.GenericAPIError{Code: "InvalidAccessKeyId"}, "target.access_key_id"},
		{&smithy.GenericAPIError{Code: "SignatureDoesNotMatch"}, "target.secret_access_key"},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, "bucket policy"},
		{fmt.Errorf("head: %w", status(403)), "access denied"},
		{status(500), ""},
		{fmt.Errorf("dial tcp: connection refused"), ""},
	}
	for _, tc := range cases {
		got := hint(tc.err)
		if tc.want == "" {
			require.Empty(t, got, "%v", tc.err)
			continue
		}
		require.Contains(t, got, tc.want, "%v", tc.err)
	}
}
