package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"genesissync/internal/layout"
)

const (
	// probeRaceBody is the size of each body of the race check, which
	// pauses halfway: a quarter MiB keeps it short and still spans many
	// TCP segments.
	probeRaceBody = 256 << 10
	// probeRaceWait bounds how long one racing request waits, halfway
	// through its body, for the other to be in flight too.
	probeRaceWait = 10 * time.Second
)

// Tri is a tri-state answer: the target does it, does not, or the probe
// could not tell (a request failed for another reason). A plain value.
type Tri string

// The values of Tri.
const (
	TriYes     Tri = "yes"
	TriNo      Tri = "no"
	TriUnknown Tri = "unknown"
)

// Capability is one probed capability: the verdict and, in a short
// sentence, why. A plain value, safe to copy and share.
type Capability struct {
	State  Tri    `json:"state"`
	Reason string `json:"reason"`
}

func capYes(format string, a ...any) Capability {
	return Capability{State: TriYes, Reason: fmt.Sprintf(format, a...)}
}

func capNo(format string, a ...any) Capability {
	return Capability{State: TriNo, Reason: fmt.Sprintf(format, a...)}
}

func capUnknown(format string, a ...any) Capability {
	return Capability{State: TriUnknown, Reason: fmt.Sprintf(format, a...)}
}

// Capabilities is what Probe learned about a target. It is a plain value
// (copy it, marshal it to JSON); its methods only read it and are safe
// for concurrent use.
type Capabilities struct {
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
	// ProbePrefix is the bucket key prefix the probe wrote under.
	ProbePrefix string `json:"probe_prefix"`

	// ConditionalCreate: PutObject with If-None-Match: * creates a new
	// key and is refused (412) on an existing one, which it leaves as it
	// was. PutInput.IfAbsent relies on it.
	ConditionalCreate Capability `json:"conditional_create"`
	// ConditionalOverwrite: PutObject with If-Match succeeds with the
	// current ETag and is refused with another ETag and on a missing key.
	// PutInput.IfMatch relies on it.
	ConditionalOverwrite Capability `json:"conditional_overwrite"`
	// ConditionalRace: of two conditional creates of one fresh key, both
	// in flight at once, exactly one wins and its bytes stay. A server
	// that checks the condition when a request arrives but publishes
	// without checking again lets both win: it only pretends.
	ConditionalRace Capability `json:"conditional_race"`
	// ChecksumSHA256 and ChecksumCRC32C: the server refuses a body whose
	// x-amz-checksum-sha256 (-crc32c) header does not match it, stores a
	// matching one, and returns it from HEAD and GET with checksum mode
	// enabled.
	ChecksumSHA256 Capability `json:"checksum_sha256"`
	ChecksumCRC32C Capability `json:"checksum_crc32c"`
	// Versioning: GetBucketVersioning says Enabled. VersioningStatus is
	// what it said: "Enabled", "Suspended", or "" for never enabled.
	Versioning       Capability `json:"versioning"`
	VersioningStatus string     `json:"versioning_status"`
	// ObjectLock: GetObjectLockConfiguration says Object Lock is enabled.
	ObjectLock Capability `json:"object_lock"`
	// URLEncoding: a listing asked for encoding-type=url says it encoded
	// the keys (EncodingType url), and they decode to the exact bytes.
	URLEncoding Capability `json:"url_encoding"`
	// CopyPlusKey and CopyPercentKey: CopyObject finds a source key with
	// "+" (with "%"), and the listing then holds source and copy with
	// exactly the bytes written.
	CopyPlusKey    Capability `json:"copy_plus_key"`
	CopyPercentKey Capability `json:"copy_percent_key"`

	// Leftovers are probe keys the cleanup could not remove (for example
	// versions kept by Object Lock retention), or the probe folder with
	// the reason it could not be listed; normally empty.
	Leftovers []string `json:"leftovers,omitempty"`
	// Evidence is what every probe request got back.
	Evidence ProbeEvidence `json:"evidence,omitzero"`
}

// NamedCapability is one capability with its JSON name.
type NamedCapability struct {
	Name string
	Capability
}

// Named lists every capability with its JSON name, in the struct's order
// (for logs and the status page).
func (c Capabilities) Named() []NamedCapability {
	return []NamedCapability{
		{"conditional_create", c.ConditionalCreate},
		{"conditional_overwrite", c.ConditionalOverwrite},
		{"conditional_race", c.ConditionalRace},
		{"checksum_sha256", c.ChecksumSHA256},
		{"checksum_crc32c", c.ChecksumCRC32C},
		{"versioning", c.Versioning},
		{"object_lock", c.ObjectLock},
		{"url_encoding", c.URLEncoding},
		{"copy_plus_key", c.CopyPlusKey},
		{"copy_percent_key", c.CopyPercentKey},
	}
}

// Degradations states, one sentence each, what the appliance does
// without each capability the target lacks or that the probe could not
// establish (an unknown is treated as absent). Empty when the target has
// them all.
func (c Capabilities) Degradations() []string {
	var out []string
	add := func(got Capability, what, without string) {
		switch got.State {
		case TriYes:
			return
		case TriNo:
			out = append(out, fmt.Sprintf("No %s (%s): %s.", what, got.Reason, without))
		default:
			out = append(out, fmt.Sprintf("Unknown whether %s work (%s), so treated as absent: %s.", what, got.Reason, without))
		}
	}
	const noConditions = "uploads are unconditional, each after a HEAD, and several appliances on this prefix are not safe"
	add(c.ConditionalCreate, "conditional creates", noConditions)
	if c.ConditionalCreate.State == TriYes {
		// Without conditional creates at all, the race says nothing new.
		add(c.ConditionalRace, "atomic conditional creates", "a condition that two writers can both pass protects nothing, so "+noConditions)
	}
	add(c.ConditionalOverwrite, "conditional overwrites",
		"a changed file replaces its object without proof that nobody else replaced it since the last listing, and a remote edit in between is lost unless versioning keeps it")
	add(c.ChecksumSHA256, "SHA-256 checksum headers",
		"the server does not verify single-part uploads, so integrity relies on our sha256/crc32c metadata and the local hash pass only")
	add(c.ChecksumCRC32C, "CRC-32C checksum headers",
		"the server does not verify multipart parts, so integrity relies on our sha256/crc32c metadata and the local hash pass only")
	add(c.Versioning, "versioning",
		"an overwrite cannot be undone in the bucket and a delete destroys the old bytes, so deleted objects are copied into the trash prefix first, point-in-time restore is refused, and ransomware that got past the tripwire would leave no clean copy there (docs/ransomware.md)")
	add(c.ObjectLock, "Object Lock",
		"whoever holds the appliance's credentials can delete every object and version, so the bucket's history is only as safe as those credentials")
	add(c.URLEncoding, "URL-encoded listings",
		"keys are listed raw and used as they are (List decodes only when told to), and keys XML cannot carry are refused at the border by keymap")
	const noCopy = "a rename of such a file uploads it again instead of copying it server-side, and on an unversioned bucket its delete cannot move the object into the trash prefix and fails, with the error on the share"
	add(c.CopyPlusKey, `server-side copy of keys with "+"`, noCopy)
	add(c.CopyPercentKey, `server-side copy of keys with "%"`, noCopy)
	return out
}

// OutcomeKind classifies one probe request's answer.
type OutcomeKind string

// The values of OutcomeKind.
const (
	// OutcomeOK: the request succeeded.
	OutcomeOK OutcomeKind = "ok"
	// OutcomeRefused: a condition refused it (412 PreconditionFailed, 409
	// ConditionalRequestConflict).
	OutcomeRefused OutcomeKind = "refused"
	// OutcomeNotFound: no such key, or no such configuration (404).
	OutcomeNotFound OutcomeKind = "not_found"
	// OutcomeBadChecksum: the body did not match its checksum (BadDigest
	// and relatives).
	OutcomeBadChecksum OutcomeKind = "bad_checksum"
	// OutcomeUnsupported: the server does not implement the request or a
	// header in it (501 NotImplemented, 405 MethodNotAllowed).
	OutcomeUnsupported OutcomeKind = "unsupported"
	// OutcomeFailed: anything else (network, 5xx, access denied, a
	// request the probe could not even make); it proves nothing.
	OutcomeFailed OutcomeKind = "failed"
	// OutcomeSkipped: not made, because an earlier step failed.
	OutcomeSkipped OutcomeKind = "skipped"
)

// Outcome is one probe request's answer, reduced to what classification
// needs, with the server's status and code (or the error) as Detail. A
// plain value.
type Outcome struct {
	Kind   OutcomeKind `json:"kind"`
	Detail string      `json:"detail,omitempty"`
}

func (o Outcome) String() string {
	if o.Detail == "" {
		return string(o.Kind)
	}
	return string(o.Kind) + ": " + o.Detail
}

var probeOK = Outcome{Kind: OutcomeOK}

// OutcomeOf classifies the error of one request (nil is OutcomeOK). Safe
// for concurrent use.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return probeOK
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	code := ""
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	detail := err.Error()
	if status != 0 || code != "" {
		detail = strings.TrimSpace(fmt.Sprintf("%s %s", probeStatus(status), code))
	}
	var kind OutcomeKind
	switch {
	case isPreconditionFailure(err):
		kind = OutcomeRefused
	case isChecksumRejection(err):
		kind = OutcomeBadChecksum
	case isChecksumHeaderRefusal(err):
		kind = OutcomeUnsupported
	case code == "NoSuchBucket":
		kind = OutcomeFailed // the bucket, not the thing asked about
	case isNotFound(err), probeNotFoundCodes[code], status == http.StatusNotFound:
		kind = OutcomeNotFound
	case code == "NotImplemented", status == http.StatusNotImplemented, status == http.StatusMethodNotAllowed:
		kind = OutcomeUnsupported
	default:
		kind = OutcomeFailed
		if len(detail) > 300 {
			detail = detail[:300] + "…"
		}
	}
	return Outcome{Kind: kind, Detail: detail}
}

// probeNotFoundCodes are the "does not exist" answers besides NoSuchKey.
var probeNotFoundCodes = map[string]bool{
	"ObjectLockConfigurationNotFoundError": true,
	"NoSuchObjectLockConfiguration":        true,
}

func probeStatus(status int) string {
	if status == 0 {
		return ""
	}
	return fmt.Sprintf("HTTP %d", status)
}

// ProbeEvidence is the answer to every request Probe made, one struct per
// check. Probe fills it and Classify turns it into Capabilities; both are
// exported so that the classification can be tested, and shown, without a
// server. The evidence types are plain values, and their Classify methods
// are pure functions, safe for concurrent use.
type ProbeEvidence struct {
	Create    CreateEvidence     `json:"conditional_create"`
	Overwrite OverwriteEvidence  `json:"conditional_overwrite"`
	Race      RaceEvidence       `json:"conditional_race"`
	SHA256    ChecksumEvidence   `json:"checksum_sha256"`
	CRC32C    ChecksumEvidence   `json:"checksum_crc32c"`
	Version   VersioningEvidence `json:"versioning"`
	Lock      ObjectLockEvidence `json:"object_lock"`
	Encoding  EncodingEvidence   `json:"url_encoding"`
	CopyPlus  CopyEvidence       `json:"copy_plus_key"`
	CopyPct   CopyEvidence       `json:"copy_percent_key"`
}

// Classify turns the evidence into Capabilities, all but the fields
// Probe fills itself (Endpoint, Bucket, ProbePrefix, Leftovers).
func (e ProbeEvidence) Classify() Capabilities {
	return Capabilities{
		ConditionalCreate:    e.Create.Classify(),
		ConditionalOverwrite: e.Overwrite.Classify(),
		ConditionalRace:      e.Race.Classify(),
		ChecksumSHA256:       e.SHA256.Classify(),
		ChecksumCRC32C:       e.CRC32C.Classify(),
		Versioning:           e.Version.Classify(),
		VersioningStatus:     e.Version.Status,
		ObjectLock:           e.Lock.Classify(),
		URLEncoding:          e.Encoding.Classify(),
		CopyPlusKey:          e.CopyPlus.Classify(),
		CopyPercentKey:       e.CopyPct.Classify(),
		Evidence:             e,
	}
}

// CreateEvidence: New is If-None-Match: * on a fresh key; Setup is the
// unconditional write of a second key and Existing the If-None-Match: *
// on it; ExistingChanged says the refused write changed that object
// anyway.
type CreateEvidence struct {
	New             Outcome `json:"new"`
	Setup           Outcome `json:"setup"`
	Existing        Outcome `json:"existing"`
	ExistingChanged bool    `json:"existing_changed,omitempty"`
}

// Classify proves conditional creates when the new key was created and the
// existing one refused and left alone.
func (e CreateEvidence) Classify() Capability {
	switch {
	case e.New.Kind == OutcomeUnsupported || e.Existing.Kind == OutcomeUnsupported:
		return capNo("If-None-Match is not implemented: new key %s, existing key %s", e.New, e.Existing)
	case e.New.Kind == OutcomeRefused:
		return capNo("If-None-Match: * was refused on a key that did not exist (%s)", e.New)
	case e.New.Kind != OutcomeOK:
		return capUnknown("If-None-Match: * on a new key: %s", e.New)
	case e.Setup.Kind != OutcomeOK:
		return capUnknown("writing the existing key: %s", e.Setup)
	case e.Existing.Kind == OutcomeOK:
		return capNo("If-None-Match: * is ignored: it overwrote an existing object")
	case e.Existing.Kind != OutcomeRefused:
		return capUnknown("If-None-Match: * on an existing key: %s", e.Existing)
	case e.ExistingChanged:
		return capNo("If-None-Match: * was refused on an existing key (%s), but the object changed anyway", e.Existing)
	}
	return capYes("If-None-Match: * created a new key and was refused on an existing one (%s)", e.Existing.Detail)
}

// OverwriteEvidence: Setup writes the key; Wrong is If-Match with another
// ETag, Current If-Match with the ETag Setup returned, Missing If-Match on
// a key that does not exist.
type OverwriteEvidence struct {
	Setup   Outcome `json:"setup"`
	Wrong   Outcome `json:"wrong_etag"`
	Current Outcome `json:"current_etag"`
	Missing Outcome `json:"missing_key"`
}

// Classify proves conditional overwrites when only the current ETag
// passes.
func (e OverwriteEvidence) Classify() Capability {
	all := []Outcome{e.Wrong, e.Current, e.Missing}
	switch {
	case e.Setup.Kind != OutcomeOK:
		return capUnknown("writing the key: %s", e.Setup)
	case slices.ContainsFunc(all, func(o Outcome) bool { return o.Kind == OutcomeUnsupported }):
		return capNo("If-Match is not implemented: wrong ETag %s, current ETag %s, missing key %s", e.Wrong, e.Current, e.Missing)
	case e.Wrong.Kind == OutcomeOK:
		return capNo("If-Match is ignored: a wrong ETag overwrote the object")
	case e.Missing.Kind == OutcomeOK:
		return capNo("If-Match is ignored on a missing key: it created the object")
	case e.Current.Kind == OutcomeRefused:
		return capNo("If-Match refused the object's own ETag (%s)", e.Current)
	case e.Wrong.Kind != OutcomeRefused:
		return capUnknown("If-Match with a wrong ETag: %s", e.Wrong)
	case e.Current.Kind != OutcomeOK:
		return capUnknown("If-Match with the current ETag: %s", e.Current)
	case e.Missing.Kind != OutcomeRefused && e.Missing.Kind != OutcomeNotFound:
		return capUnknown("If-Match on a missing key: %s", e.Missing)
	}
	return capYes("If-Match passed the current ETag and refused a wrong one (%s) and a missing key (%s)", e.Wrong.Detail, e.Missing.Detail)
}

// RaceEvidence: A and B are the two conditional creates of one fresh key;
// Continue100 says which the server answered with 100 Continue;
// Overlapped says the server had taken up each (100 Continue, held
// unanswered for a second, or answered) before it answered the other;
// Kept is "a" or "b" when the object afterwards has that request's ETag,
// "" when neither's.
type RaceEvidence struct {
	A           Outcome `json:"a"`
	B           Outcome `json:"b"`
	Continue100 [2]bool `json:"continue_100"`
	Overlapped  bool    `json:"overlapped"`
	Kept        string  `json:"kept"`
	Final       Outcome `json:"final"`
}

// Classify proves the race when exactly one overlapping create won and
// its bytes stayed.
func (e RaceEvidence) Classify() Capability {
	switch {
	case e.A.Kind == OutcomeUnsupported || e.B.Kind == OutcomeUnsupported:
		return capNo("If-None-Match is not implemented: %s, %s", e.A, e.B)
	case !e.Overlapped:
		return capUnknown("the two requests were not in flight at the server at once (%s, %s)", e.A, e.B)
	case e.A.Kind == OutcomeOK && e.B.Kind == OutcomeOK:
		return capNo("both of two concurrent creates with If-None-Match: * succeeded: the condition is not checked when the object is published")
	case !(e.A.Kind == OutcomeOK && e.B.Kind == OutcomeRefused) && !(e.A.Kind == OutcomeRefused && e.B.Kind == OutcomeOK):
		return capUnknown("two concurrent creates: %s, %s", e.A, e.B)
	case e.Final.Kind != OutcomeOK:
		return capUnknown("reading the object afterwards: %s", e.Final)
	}
	winner, loser, loserContinued := "a", e.B, e.Continue100[1]
	if e.B.Kind == OutcomeOK {
		winner, loser, loserContinued = "b", e.A, e.Continue100[0]
	}
	if e.Kept != winner {
		return capNo("one of two concurrent creates won, but the object afterwards is not the winner's")
	}
	how := "the other was refused"
	if !loserContinued {
		how = "the server held the other until the first was done, then refused it"
	}
	return capYes("exactly one of two concurrent creates won; %s (%s)", how, loser.Detail)
}

// ChecksumEvidence is one checksum algorithm's check: Wrong is a PUT
// whose checksum header belongs to other bytes, and WrongStored says it
// was stored anyway; Right is a PUT with the matching header, Head and
// Get read it back with checksum mode enabled; Sent, HeadValue and
// GetValue are the base64 checksums sent and returned.
type ChecksumEvidence struct {
	Wrong       Outcome `json:"wrong"`
	WrongStored bool    `json:"wrong_stored,omitempty"`
	Right       Outcome `json:"right"`
	Head        Outcome `json:"head"`
	Get         Outcome `json:"get"`
	Sent        string  `json:"sent"`
	HeadValue   string  `json:"head_value"`
	GetValue    string  `json:"get_value"`
}

// Classify proves the checksum when a wrong one is refused, a right one
// stored, and both HEAD and GET return it.
func (e ChecksumEvidence) Classify() Capability {
	switch {
	case e.Right.Kind == OutcomeUnsupported || e.Right.Kind == OutcomeBadChecksum:
		return capNo("the header is not accepted with a matching body (%s)", e.Right)
	case e.Right.Kind != OutcomeOK:
		return capUnknown("PUT with a matching checksum: %s", e.Right)
	case e.Wrong.Kind == OutcomeOK || e.WrongStored:
		return capNo("a body that does not match its checksum header was stored")
	case e.Wrong.Kind != OutcomeBadChecksum:
		return capUnknown("PUT with a wrong checksum: %s", e.Wrong)
	case e.Head.Kind != OutcomeOK:
		return capUnknown("HEAD with checksum mode: %s", e.Head)
	case e.Get.Kind != OutcomeOK:
		return capUnknown("GET with checksum mode: %s", e.Get)
	case e.HeadValue != e.Sent || e.GetValue != e.Sent:
		return capNo("verified on upload (%s), but HEAD and GET with checksum mode return %q and %q, not %q", e.Wrong.Detail, e.HeadValue, e.GetValue, e.Sent)
	}
	return capYes("a wrong checksum was refused (%s); HEAD and GET return the stored one", e.Wrong.Detail)
}

// VersioningEvidence is GetBucketVersioning's answer and status.
type VersioningEvidence struct {
	Get    Outcome `json:"get"`
	Status string  `json:"status"`
}

// Classify: yes only for status Enabled.
func (e VersioningEvidence) Classify() Capability {
	switch {
	case e.Get.Kind == OutcomeUnsupported:
		return capNo("GetBucketVersioning is not implemented (%s)", e.Get.Detail)
	case e.Get.Kind != OutcomeOK:
		return capUnknown("GetBucketVersioning: %s", e.Get)
	case e.Status == string(s3types.BucketVersioningStatusEnabled):
		return capYes("versioning is enabled")
	case e.Status == string(s3types.BucketVersioningStatusSuspended):
		return capNo("versioning is suspended")
	case e.Status == "":
		return capNo("versioning was never enabled on the bucket")
	}
	return capUnknown("unknown versioning status %q", e.Status)
}

// ObjectLockEvidence is GetObjectLockConfiguration's answer: Enabled as
// it says, and the default retention ("GOVERNANCE 30d", "" for none).
type ObjectLockEvidence struct {
	Get       Outcome `json:"get"`
	Enabled   bool    `json:"enabled"`
	Retention string  `json:"default_retention,omitempty"`
}

// Classify: yes when the configuration says Enabled; a missing
// configuration is a normal no.
func (e ObjectLockEvidence) Classify() Capability {
	switch {
	case e.Get.Kind == OutcomeNotFound:
		return capNo("the bucket has no Object Lock configuration")
	case e.Get.Kind == OutcomeUnsupported:
		return capNo("GetObjectLockConfiguration is not implemented (%s)", e.Get.Detail)
	case e.Get.Kind != OutcomeOK:
		return capUnknown("GetObjectLockConfiguration: %s", e.Get)
	case !e.Enabled:
		return capNo("the Object Lock configuration is not enabled")
	case e.Retention != "":
		return capYes("Object Lock is enabled, default retention %s", e.Retention)
	}
	return capYes("Object Lock is enabled, no default retention")
}

// EncodingEvidence: Key is the full key written, Put its write, List the
// listing with encoding-type=url, EncodingType what the response said,
// and Listed the keys exactly as it returned them.
type EncodingEvidence struct {
	Key          string   `json:"key"`
	Put          Outcome  `json:"put"`
	List         Outcome  `json:"list"`
	EncodingType string   `json:"encoding_type"`
	Listed       []string `json:"listed"`
}

// Classify proves URL encoding when the response says url and the key
// decodes to the bytes written.
func (e EncodingEvidence) Classify() Capability {
	switch {
	case e.Put.Kind != OutcomeOK:
		return capUnknown("writing %q: %s", e.Key, e.Put)
	case e.List.Kind != OutcomeOK:
		return capUnknown("listing with encoding-type=url: %s", e.List)
	case len(e.Listed) != 1:
		return capUnknown("the listing returned %d keys, want 1: %q", len(e.Listed), e.Listed)
	}
	got := e.Listed[0]
	if e.EncodingType != string(s3types.EncodingTypeUrl) {
		if got == e.Key {
			return capNo("the response has EncodingType %q and the key raw", e.EncodingType)
		}
		return capNo("the response has EncodingType %q and the key neither raw nor as written: %q", e.EncodingType, got)
	}
	dec, err := url.QueryUnescape(got)
	switch {
	case err != nil:
		return capNo("the response says url, but %q is not URL-encoded: %v", got, err)
	case dec != e.Key:
		return capNo("the response says url, but %q decodes to %q, not %q", got, dec, e.Key)
	}
	return capYes("the response says url, and %q decodes to the key written", got)
}

// CopyEvidence: Src is the key written (relative to the probe folder) and
// Dst its copy; Put, Copy and List are the write, the CopyObject and the
// raw listing of their folder, Listed the keys listed (relative to the
// probe folder when they start with it).
type CopyEvidence struct {
	Src    string   `json:"src"`
	Dst    string   `json:"dst"`
	Put    Outcome  `json:"put"`
	Copy   Outcome  `json:"copy"`
	List   Outcome  `json:"list"`
	Listed []string `json:"listed"`
}

// Classify proves the copy when it succeeded and the listing holds
// exactly source and copy.
func (e CopyEvidence) Classify() Capability {
	switch {
	case e.Put.Kind != OutcomeOK:
		return capUnknown("writing %q: %s", e.Src, e.Put)
	case e.Copy.Kind == OutcomeNotFound:
		return capNo("CopyObject did not find %q (%s): the server decodes x-amz-copy-source differently", e.Src, e.Copy.Detail)
	case e.Copy.Kind == OutcomeUnsupported:
		return capNo("CopyObject is not implemented (%s)", e.Copy.Detail)
	case e.Copy.Kind != OutcomeOK:
		return capUnknown("CopyObject of %q: %s", e.Src, e.Copy)
	case e.List.Kind != OutcomeOK:
		return capUnknown("listing the copy: %s", e.List)
	}
	want := []string{e.Src, e.Dst}
	slices.Sort(want)
	if !slices.Equal(e.Listed, want) {
		return capNo("after copying %q to %q the listing holds %q", e.Src, e.Dst, e.Listed)
	}
	return capYes("%q was copied and listed back byte for byte", e.Src)
}

// Probe finds out what the target can do, by trying it (see
// Capabilities). Its objects live under
// <store prefix>layout.ProbePrefix<random>/ and only there: it never reads,
// writes or deletes another key, so it is safe on a production bucket.
// They are all removed at the end, on a fresh context also after a failure
// or cancellation; what the cleanup could not remove is in Leftovers. Each
// check's request is made once, without the SDK's retries, so that every
// answer is the server's to exactly that request.
//
// The error is for a target that cannot be probed at all (HeadBucket
// fails: unreachable, no bucket, bad credentials), or a cancelled ctx, in
// which case the Capabilities are incomplete. Safe for concurrent use;
// concurrent probes use different folders.
func (s *S3) Probe(ctx context.Context) (caps Capabilities, err error) {
	if s.members != nil {
		// What the target can do is what its writes meet: the first
		// healthy endpoint that takes them.
		return via(ctx, s, true, nil, func(ctx context.Context, e *S3) (Capabilities, error) { return e.Probe(ctx) })
	}
	if err := s.Ping(ctx); err != nil {
		return Capabilities{}, fmt.Errorf("probe: %w", err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Capabilities{}, fmt.Errorf("probe: %w", err)
	}
	p := &prober{s: s, base: s.fullKey(layout.ProbePrefix + hex.EncodeToString(rnd[:]) + "/")}
	defer func() { caps.Leftovers = p.cleanup(ctx) }()

	var e ProbeEvidence
	e.Create = p.create(ctx)
	e.Overwrite = p.overwrite(ctx)
	e.Race = p.race(ctx)
	e.SHA256 = p.checksum(ctx, s3types.ChecksumAlgorithmSha256)
	e.CRC32C = p.checksum(ctx, s3types.ChecksumAlgorithmCrc32c)
	e.Version = p.versioning(ctx)
	e.Lock = p.objectLock(ctx)
	e.Encoding = p.encoding(ctx)
	e.CopyPlus = p.copyKey(ctx, "copy-plus/", "Simon + Garfunkel+.mp3")
	e.CopyPct = p.copyKey(ctx, "copy-percent/", "100% live %2B %zz.mp3")

	caps = e.Classify()
	caps.Endpoint, caps.Bucket, caps.ProbePrefix = s.endpoint, s.opts.Bucket, p.base
	for _, c := range []struct {
		name string
		e    ChecksumEvidence
	}{{"SHA-256", e.SHA256}, {"CRC-32C", e.CRC32C}} {
		if c.e.Right.Kind == OutcomeUnsupported {
			// Every upload would carry the header and fail like this:
			// send none, before the first one does.
			s.omitChecksums(fmt.Sprintf("the capability probe's PUT with a matching %s checksum header was refused (%s)", c.name, c.e.Right.Detail))
		}
	}
	if err := ctx.Err(); err != nil {
		return caps, fmt.Errorf("probe: %w", err)
	}
	return caps, nil
}

// prober makes one Probe's requests, all under base.
type prober struct {
	s    *S3
	base string // full bucket key of the probe folder, ending in "/"
}

// probeExpectContinue makes a PUT send Expect: 100-continue whatever its
// size, and wait for the 100 Continue before it sends the body: net/http
// waits only on requests that say HTTP/1.1, and the SDK builds its
// requests without a protocol version.
func probeExpectContinue(o *s3.Options) {
	o.ContinueHeaderThresholdBytes = 1
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("genesissync.ProbeHTTP11",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.Before)
	})
}

// probeOnce makes a request a single attempt: no SDK retry.
func probeOnce(o *s3.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1) }

// probeBodyOpts are the options of a probe PUT of a body with SHA-256 sum
// (hex): one attempt; no checksum header unless the input sets one, so that
// only the checksum checks depend on them; and the payload hash given, so
// that the SDK never reads the body before sending it (the race check's
// bodies cannot be read twice).
func probeBodyOpts(sum string) []func(*s3.Options) {
	return []func(*s3.Options){probeOnce, func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("genesissync.ProbePayloadHash",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					return next.HandleFinalize(v4.SetPayloadHash(ctx, sum), in)
				}), middleware.Before)
		})
	}}
}

// put writes body at the probe key name; edit sets conditions or
// checksums. It returns the ETag (unquoted) and the outcome.
func (p *prober) put(ctx context.Context, name string, body []byte, edit func(*s3.PutObjectInput)) (string, Outcome) {
	return p.putStream(ctx, name, bytes.NewReader(body), int64(len(body)), probeSHA256Hex(body), edit)
}

func (p *prober) putStream(ctx context.Context, name string, r io.Reader, size int64, sum string, edit func(*s3.PutObjectInput), opts ...func(*s3.Options)) (string, Outcome) {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(p.s.opts.Bucket),
		Key:           aws.String(p.base + name),
		Body:          r,
		ContentLength: aws.Int64(size),
	}
	if edit != nil {
		edit(in)
	}
	out, err := p.s.client.PutObject(ctx, in, append(probeBodyOpts(sum), opts...)...)
	if err != nil {
		return "", OutcomeOf(err)
	}
	return unquote(aws.ToString(out.ETag)), probeOK
}

func (p *prober) head(ctx context.Context, name string) (string, Outcome) {
	out, err := p.s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(p.s.opts.Bucket),
		Key:    aws.String(p.base + name),
	}, probeOnce)
	if err != nil {
		return "", OutcomeOf(err)
	}
	return unquote(aws.ToString(out.ETag)), probeOK
}

func probeIfNoneMatch(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }

func probeIfMatch(etag string) func(*s3.PutObjectInput) {
	return func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"` + etag + `"`) }
}

// create: If-None-Match: * on a fresh key, then on an existing one.
func (p *prober) create(ctx context.Context) CreateEvidence {
	var e CreateEvidence
	_, e.New = p.put(ctx, "create-new", []byte("probe: new"), probeIfNoneMatch)
	var etag string
	etag, e.Setup = p.put(ctx, "create-existing", []byte("probe: first"), nil)
	if e.Setup.Kind != OutcomeOK {
		e.Existing = Outcome{Kind: OutcomeSkipped}
		return e
	}
	_, e.Existing = p.put(ctx, "create-existing", []byte("probe: second"), probeIfNoneMatch)
	if after, o := p.head(ctx, "create-existing"); o.Kind == OutcomeOK && after != etag {
		e.ExistingChanged = true
	}
	return e
}

// overwrite: If-Match with a wrong ETag, the current one, and on a
// missing key.
func (p *prober) overwrite(ctx context.Context) OverwriteEvidence {
	var e OverwriteEvidence
	var etag string
	etag, e.Setup = p.put(ctx, "match", []byte("probe: first"), nil)
	if e.Setup.Kind != OutcomeOK {
		skipped := Outcome{Kind: OutcomeSkipped}
		e.Wrong, e.Current, e.Missing = skipped, skipped, skipped
		return e
	}
	wrong := probeWrongETag(etag)
	_, e.Wrong = p.put(ctx, "match", []byte("probe: wrong"), probeIfMatch(wrong))
	_, e.Current = p.put(ctx, "match", []byte("probe: current"), probeIfMatch(etag))
	_, e.Missing = p.put(ctx, "match-missing", []byte("probe: missing"), probeIfMatch(etag))
	return e
}

// probeWrongETag returns an ETag of the same form as etag that differs from it.
func probeWrongETag(etag string) string {
	sum := md5.Sum([]byte("genesissync probe: not " + etag))
	w := hex.EncodeToString(sum[:])
	if i := strings.IndexByte(etag, '-'); i >= 0 { // keep a multipart "-N" suffix
		w += etag[i:]
	}
	return w
}

// race: two If-None-Match: * PUTs of one fresh key that are provably in
// flight at the server at once. Both send Expect: 100-continue, so each
// body flows only once the server has read the headers and answered 100
// Continue (or, if it holds the request without answering, once the
// client stops waiting, after probeHeld); each body then pauses halfway
// until the other is halfway too, so neither can be published before the
// server has taken up both. A server that decides the condition when the
// headers arrive then passes both; one that decides it when it
// publishes, or holds the second request until the first is done,
// refuses one.
func (p *prober) race(ctx context.Context) RaceEvidence {
	gate := newProbeGate(ctx)
	type result struct {
		etag string
		out  Outcome
	}
	var res [2]result
	var wg sync.WaitGroup
	for i := range res {
		body := bytes.Repeat([]byte{byte('a' + i)}, probeRaceBody)
		wg.Go(func() {
			rctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				WroteHeaders:   func() { gate.mark(&gate.sent[i]) },
				Got100Continue: func() { gate.mark(&gate.got100[i]) },
			})
			r := &probeGatedReader{b: body, half: len(body) / 2, arrive: gate.arrive}
			res[i].etag, res[i].out = p.putStream(rctx, "race", r, int64(len(body)), probeSHA256Hex(body), probeIfNoneMatch, probeExpectContinue)
			gate.answered(i)
		})
	}
	wg.Wait()
	e := RaceEvidence{A: res[0].out, B: res[1].out}
	e.Continue100, e.Overlapped = gate.result()
	var final string
	final, e.Final = p.head(ctx, "race")
	for i, r := range res {
		if r.out.Kind == OutcomeOK && r.etag != "" && r.etag == final {
			e.Kept = string(rune('a' + i))
		}
	}
	return e
}

// probeHeld is how long the client waits for a 100 Continue before it
// sends the body anyway (the SDK transport's ExpectContinueTimeout). A
// request the server has had that long without answering is one it has
// taken up, or is holding on purpose.
var probeHeld = awshttp.DefaultHTTPTransportExpectContinueTimeout

// probeGate lets two racing bodies wait for each other halfway, and
// records when each request was sent, continued and answered.
type probeGate struct {
	ctx     context.Context
	mu      sync.Mutex
	sent    [2]time.Time // headers written
	got100  [2]time.Time // 100 Continue received
	done    [2]time.Time // request returned
	arrived int          // bodies halfway
	open    chan struct{}
	opened  bool
}

func newProbeGate(ctx context.Context) *probeGate {
	return &probeGate{ctx: ctx, open: make(chan struct{})}
}

func (g *probeGate) mark(at *time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	*at = time.Now()
}

// arrive marks a body halfway and waits until the other is too, a
// request has returned, probeRaceWait has passed or ctx is done.
func (g *probeGate) arrive() {
	g.mu.Lock()
	g.arrived++
	if g.arrived == 2 {
		g.release()
	}
	g.mu.Unlock()
	t := time.NewTimer(probeRaceWait)
	defer t.Stop()
	select {
	case <-g.open:
	case <-t.C:
	case <-g.ctx.Done():
	}
}

// answered marks request i returned; a body still waiting goes on.
func (g *probeGate) answered(i int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.done[i] = time.Now()
	g.release()
}

// release opens the gate; g.mu is held.
func (g *probeGate) release() {
	if !g.opened {
		g.opened = true
		close(g.open)
	}
}

// result reports which requests got a 100 Continue, and whether the
// server had taken up each request before it answered the other: by its
// 100 Continue, by holding it probeHeld unanswered, or by answering it.
// (A body can flow without a 100 Continue after an early final answer
// too, which an HTTP client follows with the body to keep the
// connection; that body proves nothing.)
func (g *probeGate) result() (continued [2]bool, overlapped bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var taken [2]time.Time
	for i := range taken {
		continued[i] = !g.got100[i].IsZero()
		switch held := g.sent[i].Add(probeHeld); {
		case g.sent[i].IsZero() || g.done[i].IsZero():
			return continued, false // never sent
		case continued[i]:
			taken[i] = g.got100[i]
		case g.done[i].After(held):
			taken[i] = held
		default:
			taken[i] = g.done[i]
		}
	}
	return continued, taken[0].Before(g.done[1]) && taken[1].Before(g.done[0])
}

// probeGatedReader yields b, calling arrive once it has yielded half.
type probeGatedReader struct {
	b      []byte
	off    int
	half   int
	arrive func()
	waited bool
}

func (r *probeGatedReader) Read(p []byte) (int, error) {
	if r.off == r.half && !r.waited {
		r.waited = true
		r.arrive()
	}
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	end := len(r.b)
	if !r.waited {
		end = r.half
	}
	n := copy(p, r.b[r.off:end])
	r.off += n
	return n, nil
}

// checksum: a PUT whose checksum header belongs to other bytes, one with
// the matching header, then HEAD and GET with checksum mode enabled.
func (p *prober) checksum(ctx context.Context, algo s3types.ChecksumAlgorithm) ChecksumEvidence {
	name := "checksum-" + strings.ToLower(string(algo))
	body := []byte("probe: checksummed body, " + name)
	var e ChecksumEvidence
	e.Sent = probeChecksum(algo, body)
	with := func(sum string) func(*s3.PutObjectInput) {
		return func(in *s3.PutObjectInput) {
			in.ChecksumAlgorithm = algo
			switch algo {
			case s3types.ChecksumAlgorithmSha256:
				in.ChecksumSHA256 = aws.String(sum)
			case s3types.ChecksumAlgorithmCrc32c:
				in.ChecksumCRC32C = aws.String(sum)
			}
		}
	}
	_, e.Wrong = p.put(ctx, name+"-wrong", body, with(probeChecksum(algo, []byte("other bytes"))))
	if _, o := p.head(ctx, name+"-wrong"); o.Kind == OutcomeOK {
		e.WrongStored = true
	}
	_, e.Right = p.put(ctx, name, body, with(e.Sent))
	if e.Right.Kind != OutcomeOK {
		e.Head, e.Get = Outcome{Kind: OutcomeSkipped}, Outcome{Kind: OutcomeSkipped}
		return e
	}
	key := aws.String(p.base + name)
	h, err := p.s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(p.s.opts.Bucket), Key: key, ChecksumMode: s3types.ChecksumModeEnabled,
	}, probeOnce)
	if e.Head = OutcomeOf(err); err == nil {
		e.HeadValue = probeReturnedChecksum(algo, h.ChecksumSHA256, h.ChecksumCRC32C)
	}
	g, err := p.s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(p.s.opts.Bucket), Key: key, ChecksumMode: s3types.ChecksumModeEnabled,
	}, probeOnce)
	if err == nil {
		e.GetValue = probeReturnedChecksum(algo, g.ChecksumSHA256, g.ChecksumCRC32C)
		got, rerr := io.ReadAll(g.Body) // the SDK checks the body against it
		g.Body.Close()
		switch {
		case rerr != nil:
			err = rerr
		case !bytes.Equal(got, body):
			err = errors.New("GET returned other bytes")
		}
	}
	e.Get = OutcomeOf(err)
	return e
}

func probeReturnedChecksum(algo s3types.ChecksumAlgorithm, sha, crc *string) string {
	if algo == s3types.ChecksumAlgorithmSha256 {
		return aws.ToString(sha)
	}
	return aws.ToString(crc)
}

// probeChecksum is the base64 checksum S3's headers carry.
func probeChecksum(algo s3types.ChecksumAlgorithm, b []byte) string {
	if algo == s3types.ChecksumAlgorithmSha256 {
		sum := sha256.Sum256(b)
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	h := NewCRC32C()
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func probeSHA256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (p *prober) versioning(ctx context.Context) VersioningEvidence {
	out, err := p.s.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(p.s.opts.Bucket)}, probeOnce)
	e := VersioningEvidence{Get: OutcomeOf(err)}
	if err == nil {
		e.Status = string(out.Status)
	}
	return e
}

func (p *prober) objectLock(ctx context.Context) ObjectLockEvidence {
	out, err := p.s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(p.s.opts.Bucket)}, probeOnce)
	e := ObjectLockEvidence{Get: OutcomeOf(err)}
	if err != nil || out.ObjectLockConfiguration == nil {
		return e
	}
	c := out.ObjectLockConfiguration
	e.Enabled = c.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled
	if c.Rule != nil && c.Rule.DefaultRetention != nil {
		r := c.Rule.DefaultRetention
		switch {
		case aws.ToInt32(r.Days) > 0:
			e.Retention = fmt.Sprintf("%s %dd", r.Mode, aws.ToInt32(r.Days))
		case aws.ToInt32(r.Years) > 0:
			e.Retention = fmt.Sprintf("%s %dy", r.Mode, aws.ToInt32(r.Years))
		}
	}
	return e
}

// encoding writes a key that must be URL-encoded to be listed encoded
// ("+", " ", a "%" without hex digits, non-ASCII) and lists it with
// encoding-type=url.
func (p *prober) encoding(ctx context.Context) EncodingEvidence {
	const name = "encoding/a+b 100%.txt é"
	e := EncodingEvidence{Key: p.base + name}
	_, e.Put = p.put(ctx, name, []byte("probe: encoding"), nil)
	if e.Put.Kind != OutcomeOK {
		e.List = Outcome{Kind: OutcomeSkipped}
		return e
	}
	out, err := p.s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:       aws.String(p.s.opts.Bucket),
		Prefix:       aws.String(p.base + "encoding/"),
		EncodingType: s3types.EncodingTypeUrl,
	}, probeOnce)
	if e.List = OutcomeOf(err); err != nil {
		return e
	}
	e.EncodingType = string(out.EncodingType)
	for _, c := range out.Contents {
		e.Listed = append(e.Listed, aws.ToString(c.Key))
	}
	return e
}

// copyKey writes folder+name+".src", copies it server-side to
// folder+name+".dst" and lists folder raw (no encoding-type: the keys
// are XML-safe).
func (p *prober) copyKey(ctx context.Context, folder, name string) CopyEvidence {
	e := CopyEvidence{Src: folder + name + ".src", Dst: folder + name + ".dst"}
	skipped := Outcome{Kind: OutcomeSkipped}
	if _, e.Put = p.put(ctx, e.Src, []byte("probe: copy source"), nil); e.Put.Kind != OutcomeOK {
		e.Copy, e.List = skipped, skipped
		return e
	}
	_, err := p.s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     aws.String(p.s.opts.Bucket),
		Key:        aws.String(p.base + e.Dst),
		CopySource: aws.String(copySource(p.s.opts.Bucket, p.base+e.Src)),
	}, probeOnce)
	if e.Copy = OutcomeOf(err); err != nil {
		e.List = skipped
		return e
	}
	keys, err := p.listKeys(ctx, p.base+folder, probeOnce)
	e.List = OutcomeOf(err)
	for _, k := range keys {
		e.Listed = append(e.Listed, strings.TrimPrefix(k, p.base))
	}
	return e
}

// listKeys lists the raw keys under prefix (which is under p.base), all
// pages.
func (p *prober) listKeys(ctx context.Context, prefix string, opts ...func(*s3.Options)) ([]string, error) {
	var keys []string
	pg := s3.NewListObjectsV2Paginator(p.s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(p.s.opts.Bucket),
		Prefix: aws.String(prefix),
	})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx, opts...)
		if err != nil {
			return keys, err
		}
		for _, c := range page.Contents {
			keys = append(keys, aws.ToString(c.Key))
		}
	}
	return keys, nil
}

// cleanup removes every version and object under p.base, on a fresh
// context, and returns the keys still there. It deletes only keys that
// start with p.base, whatever a listing returns.
func (p *prober) cleanup(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	bucket := aws.String(p.s.opts.Bucket)
	mine := func(k string) bool { return strings.HasPrefix(k, p.base) }
	del := func(key, versionID string) {
		in := &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(key)}
		if versionID != "" {
			in.VersionId = aws.String(versionID)
		}
		if _, err := p.s.client.DeleteObject(ctx, in); err != nil && !isNotFound(err) {
			p.s.log.Warn().Err(err).Str("key", key).Str("version", versionID).Msg("probe cleanup: delete failed")
		}
	}
	// Versions first: on a versioned bucket a plain delete only adds a
	// delete marker. A server without a version listing has none.
	versions := func() []string {
		var left []string
		pg := s3.NewListObjectVersionsPaginator(p.s.client, &s3.ListObjectVersionsInput{Bucket: bucket, Prefix: aws.String(p.base)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return left
			}
			for _, v := range page.Versions {
				if k := aws.ToString(v.Key); mine(k) {
					left = append(left, k+"\x00"+aws.ToString(v.VersionId))
				}
			}
			for _, m := range page.DeleteMarkers {
				if k := aws.ToString(m.Key); mine(k) {
					left = append(left, k+"\x00"+aws.ToString(m.VersionId))
				}
			}
		}
		return left
	}
	for _, kv := range versions() {
		k, v, _ := strings.Cut(kv, "\x00")
		del(k, v)
	}
	keys, err := p.listKeys(ctx, p.base)
	for _, k := range keys {
		if mine(k) {
			del(k, "")
		}
	}
	if err != nil {
		p.s.log.Warn().Err(err).Str("prefix", p.base).Msg("probe cleanup: list failed")
	}
	// What is left: current objects, and versions a version listing
	// still shows (Object Lock retention, a failed delete).
	var left []string
	keys, err = p.listKeys(ctx, p.base)
	if err != nil {
		return []string{p.base + " (could not list: " + OutcomeOf(err).String() + ")"}
	}
	for _, k := range keys {
		if mine(k) {
			left = append(left, k)
		}
	}
	for _, kv := range versions() {
		k, _, _ := strings.Cut(kv, "\x00")
		left = append(left, k)
	}
	slices.Sort(left)
	left = slices.Compact(left)
	if len(left) > 0 {
		p.s.log.Warn().Strs("keys", left).Msg("probe cleanup: objects left behind")
	}
	return left
}
