package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/rs/zerolog"
)

const (
	// DefaultPartSize is the multipart part size when S3Options.PartSize is
	// 0; objects smaller than the part size are uploaded in one request.
	DefaultPartSize int64 = 16 << 20
	// MinPartSize is S3's minimum size of every part but the last.
	MinPartSize int64 = 5 << 20
	// MaxPartSize is S3's maximum part size.
	MaxPartSize int64 = 5 << 30
	// DefaultPartConcurrency is the number of parts of one object uploaded at
	// once when S3Options.PartConcurrency is 0.
	DefaultPartConcurrency = 4
	// DefaultMaxAttempts is the SDK retryer's attempt limit per request when
	// S3Options.MaxAttempts is 0.
	DefaultMaxAttempts = 5

	// cleanupTimeout bounds the abort of a failed multipart upload, which
	// runs on a fresh context so that it also happens after cancellation.
	cleanupTimeout = 30 * time.Second

	// DefaultResponseTimeout bounds the wait for a response once a request
	// is written, when S3Options.ResponseTimeout is 0; a hung server is then
	// a retryable timeout. "Written" means handed to the kernel, whose
	// socket buffers (up to about 4 MiB) may still be draining on a slow
	// uplink, so the timeout must exceed that drain (32 s at 1 Mbit/s); S3
	// starts answering its slow calls (CompleteMultipartUpload, large
	// CopyObject) at once. There is deliberately no socket inactivity
	// timeout: the SDK's also runs while a part is being written and would
	// fail healthy uploads on a slow uplink. Stalled bodies are bounded by
	// TCP keep-alive and the caller's context.
	DefaultResponseTimeout = 2 * time.Minute
)

// S3Options configures an S3 store. The zero value of each tuning field
// selects its documented default.
type S3Options struct {
	// Endpoint is the service URL, http:// or https://, for MinIO and other
	// S3-compatible stores; empty means AWS S3 for Region. It is the
	// one-endpoint form of Endpoints; setting both is an error.
	Endpoint string
	// Endpoints are the target's endpoints, nearest first, when it has
	// several: replicas of one bucket (MinIO's bucket or site
	// replication, or two regions). Requests go to the first healthy one
	// (writes to the first healthy writable one) and fail over down the
	// list; see S3Endpoint for what each may override.
	Endpoints []S3Endpoint
	// EndpointTimeout bounds, on a target with several endpoints, the
	// wait for a connection, and for the answer to a request sent while
	// another endpoint is in line behind, before the request goes to that
	// one. 0 means DefaultEndpointTimeout. The last endpoint in line, like
	// a target's only one, waits ResponseTimeout. On a slow uplink it must
	// exceed the time to drain a part's last socket buffers (about 4 MiB).
	EndpointTimeout time.Duration
	// Region signs requests; empty means the SDK's environment and shared
	// config, and us-east-1 if they name none (MinIO's default).
	Region string
	// Bucket is required.
	Bucket string
	// Prefix is prepended to every key, as a folder: a leading "/" is
	// dropped and a trailing "/" added when missing. Empty means the bucket
	// root.
	Prefix string
	// PathStyle addresses the bucket as endpoint/bucket instead of
	// bucket.endpoint (MinIO needs it unless it is set up for virtual hosts).
	PathStyle bool

	// Credentials: inline keys if AccessKeyID is set (SecretAccessKey is
	// then required); else the shared credentials file and/or profile if
	// either is set (profile "default" when only the file is given; they
	// outrank AWS_* environment keys); else the SDK's default chain
	// (environment, shared files, instance roles).
	AccessKeyID     string
	SecretAccessKey string
	CredentialsFile string
	Profile         string

	// PartSize is the multipart part size and also the single-part limit:
	// smaller objects go up in one PutObject with a server-verified
	// SHA-256. 0 means 16 MiB; otherwise 5 MiB to 5 GiB. Each concurrent
	// multipart Put buffers (PartConcurrency+1)×PartSize bytes.
	PartSize int64
	// PartConcurrency is the number of parts of one object in flight; 0
	// means DefaultPartConcurrency, which bounds a multipart Put to 80 MiB
	// of buffers at the default part size. The transfer package bounds how
	// many Puts run at once.
	PartConcurrency int
	// MaxAttempts is the SDK retryer's attempt limit per request (the one
	// retry layer). 0 means 5.
	MaxAttempts int
	// ResponseTimeout bounds the wait for a response after a request was
	// sent. 0 means DefaultResponseTimeout.
	ResponseTimeout time.Duration
	// SignPayload signs the SHA-256 of every PUT body (SigV4's signed
	// payload) over a plain http:// endpoint. Off (the default), bodies go
	// as UNSIGNED-PAYLOAD, sparing the SDK a SHA-256 pass over every byte;
	// the server still checks them against a signed checksum header, and
	// Put locally against the hash pass. Over https:// the SDK never signs
	// bodies and this does nothing. Turn it on when plain http:// crosses a
	// network where someone could alter traffic in flight.
	SignPayload bool
	// Wire, when set, paces every byte the store's connections send and
	// receive (playout-aware transfers). Nil: no pacing.
	Wire WirePacer

	// copyTuning lowers the multipart copy's threshold and part size and
	// adds hooks, for tests only (s3_copy.go, set by export_test.go); nil
	// outside tests.
	copyTuning *copyTuning
}

// S3Endpoint is one endpoint of a target with several
// (S3Options.Endpoints). Empty fields take the target's value (its
// S3Options); PathStyle nil means the target's.
type S3Endpoint struct {
	// URL is the service URL, http:// or https://; required.
	URL string
	// Region signs requests to this endpoint (a replica in another
	// region).
	Region string
	// PathStyle overrides the target's addressing for this endpoint.
	PathStyle *bool
	// Credentials for this endpoint: inline keys, or a shared credentials
	// file and profile; all empty means the target's.
	AccessKeyID     string
	SecretAccessKey string
	CredentialsFile string
	Profile         string
	// ReadOnly keeps writes (PUT, multipart, copy, delete) off this
	// endpoint: a read replica.
	ReadOnly bool
}

// DefaultEndpointTimeout is S3Options.EndpointTimeout's default.
const DefaultEndpointTimeout = 5 * time.Second

// normalized validates o and fills its defaults.
func (o S3Options) normalized() (S3Options, error) {
	if o.Bucket == "" {
		return o, errors.New("bucket is required")
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, fmt.Errorf("endpoint %q: want an http:// or https:// URL", o.Endpoint)
		}
		o.Endpoint = strings.TrimSuffix(o.Endpoint, "/")
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		return o, errors.New("access key ID and secret access key must be set together")
	}
	if len(o.Endpoints) > 0 {
		if o.Endpoint != "" {
			return o, errors.New("set either Endpoint or Endpoints, not both")
		}
		eps := make([]S3Endpoint, len(o.Endpoints))
		writable := false
		for i, e := range o.Endpoints {
			u, err := url.Parse(e.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return o, fmt.Errorf("endpoint %d %q: want an http:// or https:// URL", i+1, e.URL)
			}
			if (e.AccessKeyID == "") != (e.SecretAccessKey == "") {
				return o, fmt.Errorf("endpoint %d %s: access key ID and secret access key must be set together", i+1, e.URL)
			}
			e.URL = strings.TrimSuffix(e.URL, "/")
			for _, prev := range eps[:i] {
				if prev.URL == e.URL {
					return o, fmt.Errorf("endpoint %d %s: listed twice", i+1, e.URL)
				}
			}
			writable = writable || !e.ReadOnly
			eps[i] = e
		}
		if !writable {
			return o, errors.New("endpoints: none takes writes")
		}
		o.Endpoints = eps
	}
	switch {
	case o.EndpointTimeout == 0:
		o.EndpointTimeout = DefaultEndpointTimeout
	case o.EndpointTimeout < 0:
		return o, fmt.Errorf("endpoint timeout %s: must not be negative", o.EndpointTimeout)
	}
	o.Prefix = strings.TrimLeft(o.Prefix, "/")
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	switch {
	case o.PartSize == 0:
		o.PartSize = DefaultPartSize
	case o.PartSize < MinPartSize || o.PartSize > MaxPartSize:
		return o, fmt.Errorf("part size %d: want %d to %d bytes", o.PartSize, MinPartSize, MaxPartSize)
	}
	switch {
	case o.PartConcurrency == 0:
		o.PartConcurrency = DefaultPartConcurrency
	case o.PartConcurrency < 0:
		return o, fmt.Errorf("part concurrency %d: must not be negative", o.PartConcurrency)
	}
	switch {
	case o.ResponseTimeout == 0:
		o.ResponseTimeout = DefaultResponseTimeout
	case o.ResponseTimeout < 0:
		return o, fmt.Errorf("response timeout %s: must not be negative", o.ResponseTimeout)
	}
	switch {
	case o.MaxAttempts == 0:
		o.MaxAttempts = DefaultMaxAttempts
	case o.MaxAttempts < 0:
		return o, fmt.Errorf("max attempts %d: must not be negative", o.MaxAttempts)
	}
	return o, nil
}

// S3 is a Store on one bucket (and prefix) of an S3-compatible service. It is
// safe for concurrent use; create one per target and share it.
type S3 struct {
	client   *s3.Client
	tm       *transfermanager.Client
	opts     S3Options
	endpoint string
	log      zerolog.Logger

	// verifyLocally makes Put check size and checksum while streaming. Only
	// tests turn it off, to reach the server-side checksum check.
	verifyLocally bool

	// checksumsOff says why requests carry no checksum headers
	// (x-amz-checksum-*, x-amz-sdk-checksum-algorithm, x-amz-checksum-mode);
	// nil while they do. Set once the server refuses them (see
	// isChecksumHeaderRefusal): uploads are then verified by the local hash
	// pass and our sha256/crc32c metadata only.
	checksumsOff *atomic.Pointer[string]
	// condDeletesOff says why deletes carry no If-Match; nil while they
	// do (DeleteIfMatch).
	condDeletesOff *atomic.Pointer[string]

	// members are the endpoints of a target with several
	// (S3Options.Endpoints), nearest first, each a one-endpoint S3 that
	// every method hands its requests to (s3_endpoints.go); nil for a
	// target with one endpoint, whose requests this S3 sends itself.
	members []*S3
	// member is this endpoint's state when it is one of several; nil
	// otherwise.
	member *member
}

// ChecksumHeaders reports whether requests carry checksum headers, and if
// not, why. Safe for concurrent use.
func (s *S3) ChecksumHeaders() (bool, string) {
	for _, e := range s.members {
		if ok, why := e.ChecksumHeaders(); !ok {
			return false, e.endpoint + ": " + why
		}
	}
	if why := s.checksumsOff.Load(); why != nil {
		return false, *why
	}
	return true, ""
}

// omitChecksums stops sending checksum headers for good (until restart),
// because of why; the first call logs it.
func (s *S3) omitChecksums(why string) {
	if s.checksumsOff.CompareAndSwap(nil, &why) {
		s.log.Warn().Str("endpoint", s.endpoint).Str("reason", why).
			Msg("the server refuses checksum headers: sending none from now on; uploads are verified by the local hash pass and the sha256/crc32c metadata only")
	}
}

// withoutUploadChecksums makes a transfer-manager upload send no checksum
// header: no algorithm, and the client's default CRC32 suppressed.
func withoutUploadChecksums(o *transfermanager.Options) {
	o.ChecksumAlgorithm = ""
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

// getOptions are the per-call options of a GetObject: without checksum
// headers, no x-amz-checksum-mode (the SDK sends it by default to have
// the response validated).
func (s *S3) getOptions() []func(*s3.Options) {
	if s.checksumsOff.Load() == nil {
		return nil
	}
	return []func(*s3.Options){func(o *s3.Options) {
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	}}
}

// refusedChecksums notes a request refused for its checksum headers, and
// returns err marked ErrChecksumHeadersRefused for the caller to try
// again (without them); other errors come back as they are.
func (s *S3) refusedChecksums(op, key string, err error) error {
	if s.checksumsOff.Load() != nil || !isChecksumHeaderRefusal(err) {
		return nil
	}
	s.omitChecksums(fmt.Sprintf("%s %q was refused: %v", op, key, err))
	return fmt.Errorf("%s %q: %w: %w", op, key, ErrChecksumHeadersRefused, err)
}

var _ Store = (*S3)(nil)

// NewS3 builds an S3 store. It makes no request; use Ping or EnsureBucket to
// check that the bucket is reachable. log receives the SDK's own warnings
// and per-object debug lines; it never receives credentials.
func NewS3(ctx context.Context, opts S3Options, log zerolog.Logger) (*S3, error) {
	opts, err := opts.normalized()
	if err != nil {
		return nil, fmt.Errorf("s3 options: %w", err)
	}
	log = log.With().Str("component", "objstore").Str("bucket", opts.Bucket).Logger()
	if len(opts.Endpoints) > 0 {
		return newSeveral(ctx, opts, log)
	}
	return newEndpoint(ctx, opts, nil, log)
}

// newEndpoint builds the store of one endpoint: the whole store of a
// target with one, or one member (m non-nil) of a target with several,
// whose requests time out after EndpointTimeout instead of
// ResponseTimeout.
func newEndpoint(ctx context.Context, opts S3Options, m *member, log zerolog.Logger) (*S3, error) {

	// The SDK's buildable client, not a plain *http.Client: LoadDefaultConfig
	// installs AWS_CA_BUNDLE into it and rejects any other client type when
	// that variable is set.
	conns := max(2*opts.PartConcurrency, 16)
	httpClient := func(responseTimeout time.Duration) *awshttp.BuildableClient {
		c := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConns = conns
			tr.MaxIdleConnsPerHost = conns
			tr.ResponseHeaderTimeout = responseTimeout
			if opts.Wire != nil {
				tr.DialContext = pacedDialer(tr.DialContext, opts.Wire)
			}
		})
		if m != nil {
			c = c.WithDialerOptions(func(d *net.Dialer) { d.Timeout = opts.EndpointTimeout })
		}
		return c
	}
	maxAttempts := opts.MaxAttempts
	load := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient(opts.ResponseTimeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				// No client-side retry quota: during an outage it would fail
				// unrelated requests fast, which the failover layer would
				// misread as the endpoint being worse than it is.
				o.RateLimiter = ratelimit.None
			})
		}),
		config.WithLogger(sdkLogger{log: log}),
	}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	credSource := "default chain"
	switch {
	case opts.AccessKeyID != "":
		credSource = "inline keys"
		load = append(load, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(opts.AccessKeyID, opts.SecretAccessKey, "")))
	case opts.CredentialsFile != "" || opts.Profile != "":
		credSource = "shared credentials"
		if opts.CredentialsFile != "" {
			if _, err := os.Stat(opts.CredentialsFile); err != nil {
				return nil, fmt.Errorf("s3 credentials file: %w", err)
			}
			load = append(load, config.WithSharedCredentialsFiles([]string{opts.CredentialsFile}))
		}
		// Always name the profile: only a programmatically chosen profile
		// outranks AWS_ACCESS_KEY_ID in the environment.
		profile := opts.Profile
		if profile == "" {
			profile = "default"
		}
		load = append(load, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load s3 config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}

	clientOptions := func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
		// Multipart objects carry composite checksums, which GetObject
		// cannot validate; that is expected, not worth a warning per read.
		o.DisableLogOutputChecksumValidationSkipped = true
		if !opts.SignPayload {
			o.APIOptions = append(o.APIOptions, addUnsignedBodies)
		}
		o.APIOptions = append(o.APIOptions, addConditions)
		if m != nil {
			o.APIOptions = append(o.APIOptions, m.observe)
		}
	}
	client := s3.NewFromConfig(cfg, clientOptions)
	tmOptions := func(o *transfermanager.Options) {
		o.PartSizeBytes = opts.PartSize
		o.MultipartUploadThreshold = opts.PartSize
		o.Concurrency = opts.PartConcurrency
		// CRC32C per part (S3 COMPOSITE checksum): the server checks each
		// part as it arrives. Not SHA-256: the body is already checked
		// locally while streaming (verifyingReader) and its SHA-256 is in
		// the metadata; CRC32C is computed in hardware.
		o.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmCrc32c
		// A cancelled Put must not leave its upload open.
		o.FailTimeout = cleanupTimeout
	}
	tm := transfermanager.New(client, tmOptions)

	endpoint := opts.Endpoint
	if endpoint == "" {
		endpoint = "https://s3." + cfg.Region + ".amazonaws.com"
	}
	log.Debug().Str("endpoint", endpoint).Str("region", cfg.Region).Str("prefix", opts.Prefix).
		Bool("path_style", opts.PathStyle).Str("credentials", credSource).
		Int64("part_size", opts.PartSize).Int("part_concurrency", opts.PartConcurrency).
		Int("max_attempts", opts.MaxAttempts).Msg("s3 store configured")

	s := &S3{client: client, tm: tm, opts: opts, endpoint: endpoint, log: log, verifyLocally: true,
		checksumsOff: new(atomic.Pointer[string]), condDeletesOff: new(atomic.Pointer[string]), member: m}
	if m != nil {
		// The view of this endpoint that a request uses while another
		// endpoint is in line behind: one attempt, and EndpointTimeout
		// for the answer, then the next endpoint, rather than the whole
		// retry budget and ResponseTimeout here. The last endpoint in line
		// is as patient as a target's only one.
		impatient := func(o *s3.Options) {
			o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1)
			o.HTTPClient = httpClient(opts.EndpointTimeout)
		}
		v := *s
		v.client = s3.NewFromConfig(cfg, clientOptions, impatient)
		v.tm = transfermanager.New(v.client, tmOptions)
		m.impatient = &v
	}
	return s, nil
}

// addUnsignedBodies makes PutObject and UploadPart over plain http://
// send their bodies as UNSIGNED-PAYLOAD (see S3Options.SignPayload). It
// runs first in the Finalize step, so the SDK's checksum middleware finds
// the payload hash set and computes the checksum alone instead of also
// reading the body for the SHA-256 it would sign.
func addUnsignedBodies(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("genesissync.UnsignedBodies",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			req, ok := in.Request.(*smithyhttp.Request)
			if ok && !req.IsHTTPS() {
				switch awsmiddleware.GetOperationName(ctx) {
				case "PutObject", "UploadPart":
					ctx = v4.SetPayloadHash(ctx, unsignedPayload)
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.Before)
}

// conditionKey carries a Put's condition (PutInput.IfAbsent, IfMatch)
// in its context to addConditions.
type conditionKey struct{}

type condition struct {
	ifAbsent bool
	ifMatch  string
}

func (c condition) set() bool { return c.ifAbsent || c.ifMatch != "" }

// addConditions sets a conditional Put's If-None-Match: * or If-Match on
// the request that publishes the object: the PutObject of a single-part
// upload or the CompleteMultipartUpload of a multipart one (parts are
// invisible until then). The transfer manager's input has no fields for
// them, but passes the context through to both calls.
func addConditions(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("genesissync.Conditions",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if c, ok := ctx.Value(conditionKey{}).(condition); ok {
				var ifNoneMatch, ifMatch *string
				if c.ifAbsent {
					ifNoneMatch = aws.String("*")
				}
				if c.ifMatch != "" {
					ifMatch = aws.String(`"` + c.ifMatch + `"`)
				}
				switch p := in.Parameters.(type) {
				case *s3.PutObjectInput:
					p.IfNoneMatch, p.IfMatch = ifNoneMatch, ifMatch
				case *s3.CompleteMultipartUploadInput:
					p.IfNoneMatch, p.IfMatch = ifNoneMatch, ifMatch
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// unsignedPayload is SigV4's x-amz-content-sha256 for a body it does not
// sign.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// Endpoint returns the service URL this store talks to. Safe for concurrent
// use.
func (s *S3) Endpoint() string { return s.endpoint }

// Bucket returns the bucket name. Safe for concurrent use.
func (s *S3) Bucket() string { return s.opts.Bucket }

// Prefix returns the normalized key prefix ("" or ending in "/"). Safe for
// concurrent use.
func (s *S3) Prefix() string { return s.opts.Prefix }

func (s *S3) fullKey(key string) string { return s.opts.Prefix + key }

// Put implements Store. Objects smaller than PartSize go up in one
// PutObject whose x-amz-checksum-sha256 the server verifies; larger ones as
// a multipart upload with a server-verified CRC-32C per part. Either way
// the body is checked against in.Size and in.CRC32C (else in.SHA256) while
// it streams, and a mismatch or body error aborts the upload.
func (s *S3) Put(ctx context.Context, in PutInput) (Object, error) {
	if s.members != nil {
		return s.putVia(ctx, in)
	}

	if err := checkKey(s.opts.Prefix, in.Key); err != nil {
		return Object{}, fmt.Errorf("put %q: %w", in.Key, err)
	}
	if err := checkPut(in); err != nil {
		return Object{}, fmt.Errorf("put %q: %w", in.Key, err)
	}
	body := in.Body
	if s.verifyLocally {
		body = newVerifyingReader(in.Body, in.Size, in.SHA256, in.CRC32C)
	}
	input := &transfermanager.UploadObjectInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(s.fullKey(in.Key)),
		Body:              body,
		ContentLength:     aws.Int64(in.Size),
		Metadata:          putMetadata(in),
		ContentType:       aws.String(ContentType(in.Key)),
		ChecksumAlgorithm: tmtypes.ChecksumAlgorithmCrc32c,
	}
	// The transfer manager uses one PutObject exactly when the body, which
	// the verifying reader keeps at Size, is shorter than PartSize.
	// ChecksumSHA256 is valid only there: a multipart upload would pass it
	// to CompleteMultipartUpload, which expects the composite checksum.
	var tmOpts []func(*transfermanager.Options)
	switch {
	case s.checksumsOff.Load() != nil:
		input.ChecksumAlgorithm = ""
		tmOpts = append(tmOpts, withoutUploadChecksums)
	case in.Size < s.opts.PartSize:
		input.ChecksumAlgorithm = tmtypes.ChecksumAlgorithmSha256
		input.ChecksumSHA256 = aws.String(sha256Base64(in.SHA256))
	}

	cond := condition{ifAbsent: in.IfAbsent, ifMatch: in.IfMatch}
	if cond.set() {
		// Set on the publishing request by addConditions.
		ctx = context.WithValue(ctx, conditionKey{}, cond)
	}
	out, err := s.tm.UploadObject(ctx, input, tmOpts...)
	if err != nil {
		var mpErr transfermanager.MultipartUploadError
		if errors.As(err, &mpErr) {
			s.abortUpload(ctx, in.Key, mpErr.UploadID())
		}
		if rerr := s.refusedChecksums("put", in.Key, err); rerr != nil {
			return Object{}, rerr
		}
		switch ctxErr := ctx.Err(); {
		case isChecksumRejection(err):
			return Object{}, fmt.Errorf("put %q: %w: %w", in.Key, ErrChecksumMismatch, err)
		case cond.set() && isPreconditionFailure(err),
			cond.ifMatch != "" && isNotFound(err): // S3 answers If-Match on a missing key with 404 NoSuchKey
			return Object{}, fmt.Errorf("put %q: %w: %w", in.Key, ErrPreconditionFailed, err)
		case ctxErr != nil && !errors.Is(err, ctxErr):
			// When its own abort fails, the transfer manager formats the
			// cause with %v; keep the cancellation visible to errors.Is.
			return Object{}, fmt.Errorf("put %q: %w: %w", in.Key, ctxErr, err)
		default:
			return Object{}, fmt.Errorf("put %q%s: %w", in.Key, hint(err), err)
		}
	}
	o := Object{
		Key:         in.Key,
		Size:        in.Size,
		ETag:        unquote(aws.ToString(out.ETag)),
		VersionID:   aws.ToString(out.VersionID),
		ContentType: aws.ToString(input.ContentType),
	}
	applyMetadata(&o, input.Metadata)
	s.log.Debug().Str("key", in.Key).Int64("size", in.Size).Int("parts", len(out.CompletedParts)).Msg("put")
	return o, nil
}

// abortUpload aborts a failed multipart upload on a fresh context: a
// second attempt after the transfer manager's, harmless (NoSuchUpload)
// when that one succeeded.
func (s *S3) abortUpload(ctx context.Context, key, uploadID string) {
	if uploadID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.opts.Bucket),
		Key:      aws.String(s.fullKey(key)),
		UploadId: aws.String(uploadID),
	})
	if err != nil && !isCode(err, "NoSuchUpload") {
		s.log.Warn().Err(err).Str("key", key).Str("upload_id", uploadID).
			Msg("abort of failed multipart upload failed; AbortStale will retry")
	}
}

// Head implements Store.
func (s *S3) Head(ctx context.Context, key string) (Object, error) {
	if s.members != nil {
		return via(ctx, s, false, nil, func(ctx context.Context, e *S3) (Object, error) { return e.Head(ctx, key) })
	}

	if err := checkKey(s.opts.Prefix, key); err != nil {
		return Object{}, fmt.Errorf("head %q: %w", key, err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.opts.Bucket),
		Key:    aws.String(s.fullKey(key)),
	})
	if err != nil {
		return Object{}, s.readErr("head", key, err)
	}
	return fromHead(key, out), nil
}

// encryption is Object.Encryption from a response's headers.
func encryption(sse s3types.ServerSideEncryption, customer *string) string {
	if aws.ToString(customer) != "" {
		return "SSE-C"
	}
	return string(sse)
}

// Get implements Store. The SDK validates the body against a stored
// full-object checksum (single-part objects) as it is read; a mismatch
// surfaces as an error from the body's Read.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if s.members != nil {
		return s.getVia(ctx, func(ctx context.Context, e *S3) (io.ReadCloser, Object, error) { return e.Get(ctx, key) })
	}

	return s.get(ctx, key, "")
}

// get is Get on one endpoint, of the object only while its ETag is
// ifMatch when that is set (else ErrPreconditionFailed).
func (s *S3) get(ctx context.Context, key, ifMatch string) (io.ReadCloser, Object, error) {
	if err := checkKey(s.opts.Prefix, key); err != nil {
		return nil, Object{}, fmt.Errorf("get %q: %w", key, err)
	}
	in := &s3.GetObjectInput{
		Bucket: aws.String(s.opts.Bucket),
		Key:    aws.String(s.fullKey(key)),
	}
	if ifMatch != "" {
		in.IfMatch = aws.String(`"` + ifMatch + `"`)
	}
	out, err := s.client.GetObject(ctx, in, s.getOptions()...)
	if err != nil {
		if rerr := s.refusedChecksums("get", key, err); rerr != nil {
			return nil, Object{}, rerr
		}
		return nil, Object{}, s.readErr("get", key, err)
	}
	return out.Body, fromGet(key, out), nil
}

func (s *S3) readErr(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%s %q: %w", op, key, ErrNotFound)
	}
	if isPreconditionFailure(err) {
		return fmt.Errorf("%s %q: %w: %w", op, key, ErrPreconditionFailed, err)
	}
	return fmt.Errorf("%s %q%s: %w", op, key, hint(err), err)
}

// List implements Store. Keys are requested URL-encoded, so that keys with
// characters XML cannot carry survive, and decoded only when the response
// says it encoded them: some servers return raw keys, which decoding would
// corrupt ("+" becomes a space).
func (s *S3) List(ctx context.Context, prefix string, fn func(Object) error) error {
	if s.members != nil {
		return listVia(ctx, s, func(ctx context.Context, e *S3, fn func(Object) error) error { return e.List(ctx, prefix, fn) }, fn)
	}

	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:       aws.String(s.opts.Bucket),
		Prefix:       aws.String(s.fullKey(prefix)),
		EncodingType: s3types.EncodingTypeUrl,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %q%s: %w", prefix, hint(err), err)
		}
		for _, c := range page.Contents {
			full, err := decodeKey(page.EncodingType, aws.ToString(c.Key))
			if err != nil {
				return fmt.Errorf("list %q: decode key %q: %w", prefix, aws.ToString(c.Key), err)
			}
			key, ok := strings.CutPrefix(full, s.opts.Prefix)
			if !ok || key == "" {
				continue // the prefix "folder" object itself, or a server bug
			}
			o := Object{
				Key:          key,
				Size:         aws.ToInt64(c.Size),
				ETag:         unquote(aws.ToString(c.ETag)),
				LastModified: aws.ToTime(c.LastModified),
			}
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeKey returns a listed key as stored: URL-decoded when the
// response's EncodingType says "url" (S3 encodes like a form value, "+"
// for a space), as is otherwise.
func decodeKey(enc s3types.EncodingType, key string) (string, error) {
	if enc != s3types.EncodingTypeUrl {
		return key, nil
	}
	return url.QueryUnescape(key)
}

// Delete implements Store. Deleting an absent key succeeds; on a versioned
// bucket it adds a delete marker and keeps the old versions.
func (s *S3) Delete(ctx context.Context, key string) error {
	if s.members != nil {
		_, err := via(ctx, s, true, nil, func(ctx context.Context, e *S3) (struct{}, error) { return struct{}{}, e.Delete(ctx, key) })
		return err
	}

	if err := checkKey(s.opts.Prefix, key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.opts.Bucket),
		Key:    aws.String(s.fullKey(key)),
	})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	s.log.Debug().Str("key", key).Msg("delete")
	return nil
}

// DeleteIfMatch is Delete of the object only while its ETag is etag (a
// conditional delete, If-Match on DeleteObject): a delete never removes
// a version its caller did not see. Another ETag is
// ErrPreconditionFailed; an absent key succeeds, as with Delete. A
// server that refuses the header (501, or a 400 naming it) gets plain
// deletes from then on, logged once (ConditionalDeletes says so); one
// that ignores it deletes whatever is there, as Delete does.
func (s *S3) DeleteIfMatch(ctx context.Context, key, etag string) error {
	if s.members != nil {
		_, err := via(ctx, s, true, nil, func(ctx context.Context, e *S3) (struct{}, error) {
			return struct{}{}, e.DeleteIfMatch(ctx, key, etag)
		})
		return err
	}
	if etag == "" || s.condDeletesOff.Load() != nil {
		return s.Delete(ctx, key)
	}
	if err := checkKey(s.opts.Prefix, key); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:  aws.String(s.opts.Bucket),
		Key:     aws.String(s.fullKey(key)),
		IfMatch: aws.String(`"` + etag + `"`),
	})
	switch {
	case err == nil, isNotFound(err):
		s.log.Debug().Str("key", key).Str("if_match", etag).Msg("delete")
		return nil
	case isPreconditionFailure(err):
		return fmt.Errorf("delete %q: %w: %w", key, ErrPreconditionFailed, err)
	case isConditionRefusal(err):
		why := fmt.Sprintf("a delete with If-Match was refused: %v", err)
		if s.condDeletesOff.CompareAndSwap(nil, &why) {
			s.log.Warn().Str("endpoint", s.endpoint).Str("reason", why).
				Msg("the server refuses conditional deletes: deleting without If-Match from now on (the ETag is checked by a HEAD just before)")
		}
		return s.Delete(ctx, key)
	}
	return fmt.Errorf("delete %q%s: %w", key, hint(err), err)
}

// ConditionalDeletes reports whether deletes carry If-Match, and if not,
// why (the server refused it). Safe for concurrent use.
func (s *S3) ConditionalDeletes() (bool, string) {
	for _, e := range s.members {
		if ok, why := e.ConditionalDeletes(); !ok {
			return false, e.endpoint + ": " + why
		}
	}
	if why := s.condDeletesOff.Load(); why != nil {
		return false, *why
	}
	return true, ""
}

// Ping checks that the bucket exists and the credentials may use it
// (HeadBucket). For health checks; safe for concurrent use.
func (s *S3) Ping(ctx context.Context) error {
	if s.members != nil {
		_, err := via(ctx, s, false, nil, func(ctx context.Context, e *S3) (struct{}, error) { return struct{}{}, e.Ping(ctx) })
		return err
	}

	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.opts.Bucket)})
	switch {
	case err == nil:
		return nil
	case isNotFound(err):
		return fmt.Errorf("ping bucket %q at %s: bucket does not exist: %w", s.opts.Bucket, s.endpoint, err)
	default:
		return fmt.Errorf("ping bucket %q at %s: %w", s.opts.Bucket, s.endpoint, err)
	}
}

// EnsureBucket creates the bucket if it does not exist (for the demo and
// tests; production buckets are made by their owners). Safe for concurrent
// use.
func (s *S3) EnsureBucket(ctx context.Context) error {
	if s.members != nil {
		return s.onEach(false, func(e *S3) error { return e.EnsureBucket(ctx) })
	}

	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.opts.Bucket)})
	if err == nil {
		return nil
	}
	if !isNotFound(err) && !isCode(err, "NoSuchBucket") {
		return fmt.Errorf("ensure bucket %q: %w", s.opts.Bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(s.opts.Bucket)}
	if region := s.client.Options().Region; region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(region),
		}
	}
	if _, err := s.client.CreateBucket(ctx, in); err != nil && !isCode(err, "BucketAlreadyOwnedByYou") {
		return fmt.Errorf("ensure bucket %q: %w", s.opts.Bucket, err)
	}
	s.log.Info().Msg("bucket created")
	return nil
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// sha256Base64 returns the base64 of the raw digest given as hex.
func sha256Base64(hexSum string) string {
	raw, err := hex.DecodeString(hexSum)
	if err != nil || len(raw) != sha256.Size {
		return ""
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// sdkLogger routes the SDK's log lines to zerolog. The SDK logs no request
// content unless ClientLogMode asks for it, which we never set.
type sdkLogger struct{ log zerolog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	ev := l.log.Debug()
	if c == logging.Warn {
		ev = l.log.Warn()
	}
	ev.Str("source", "aws-sdk").Msgf(format, v...)
}
