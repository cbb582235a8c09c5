// Package keymap owns the border between object keys and share paths: it
// decides which keys from the bucket may become files on the share, which
// files on the share may become keys, and which names would collide for a
// Windows client.
//
// Keys are relative to the share's prefix (objstore strips it); share paths
// are share-relative and slash-separated. The mapping is the identity: a key
// is either accepted as the path it names, byte for byte, or refused with a
// *RefusedError carrying a short, stable Reason. Nothing is rewritten,
// escaped or mangled, so a file keeps the name its author gave it on both
// sides, and a refusal is visible (the caller reports it with its key) rather
// than a silently renamed file.
//
// # The rules
//
// A key (LocalPath) or a share path (Key) is refused when it is, in the order
// checked, so that one name always gets the same Reason:
//
//   - empty ("empty");
//   - over 1024 bytes, S3's key limit and well under PATH_MAX ("too-long");
//   - absolute, starting with "/" ("absolute");
//
// and then, segment by segment from the left, when a segment is
//
//   - empty, as in "a//b" ("empty-segment");
//   - "." or ".." ("dot-segment");
//   - holding, at its first offending byte: invalid UTF-8, including encoded
//     surrogates and overlong forms ("invalid-utf8"); NUL ("nul"); a
//     backslash, a separator to Windows ("backslash"); a control character
//     (C0, DEL, C1, U+2028, U+2029: line breaks and terminal controls that
//     could forge a log line or a status-page row; "control-char"); one of
//     < > : " | ? * ("windows-illegal-char"); an invisible format character
//     of category Cf or another default-ignorable code point, among them the
//     bidirectional overrides (which make "song\u202E3pm.exe" display as
//     "songexe.mp3"), zero-width characters, BOM, the tag characters that
//     can smuggle hidden text and the Hangul fillers ("format-char");
//   - over 255 bytes, NAME_MAX of ext4 and ZFS ("segment-too-long");
//   - ending in a dot or a space, which Windows strips, so "a." and "a"
//     would be one file to a client; this also refuses "..." and "a ",
//     while "a..b.mp3" and " a" are fine ("trailing-dot-or-space");
//   - starting with ".genesissync" under case folding: the appliance's own
//     temp, trash and marker names, vetoed from SMB ("reserved-prefix");
//   - a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, COM¹²³,
//     LPT¹²³, CONIN$, CONOUT$) in any case, alone or before any extension or
//     spaces and an extension ("con.mp3", "CON .mp3"); "console.mp3" and
//     "COM10" are fine ("windows-reserved-name").
//
// Check applies the segment rules to one name and also refuses a "/" in it
// ("slash").
//
// Choices where the rules leave room:
//
//   - ZWNJ (U+200C) and ZWJ (U+200D) are the only format characters
//     accepted: Persian and Indic names need ZWNJ, emoji sequences ZWJ, and
//     neither reorders or hides text. Variation selectors are marks, not
//     format characters, and are accepted. Tag characters are refused even
//     though subdivision flags use them.
//   - Characters are judged by the Unicode tables of the Go release that
//     builds the appliance. Unassigned and private-use code points, U+FFFD,
//     and non-breaking and other Unicode spaces (also at the end of a name:
//     Windows does not strip them) are accepted.
//   - A key ending in "/" is a directory marker object. Its directory path is
//     checked like any key, so a hostile marker ("../") is refused visibly; a
//     valid one returns an error matching ErrDirMarker, which callers skip
//     quietly. Key refuses a path ending in "/" with "empty-segment": share
//     paths name files.
//   - No Unicode normalisation: "é" precomposed and decomposed are two names
//     on both sides. Only case is folded, to find collisions.
//   - Names starting with "." are accepted; total paths up to 1024 bytes are
//     accepted although old Windows programs stop at MAX_PATH. The limit
//     applies below the share's prefix; objstore refuses a full key over
//     S3's 1024 bytes.
//
// # Case collisions
//
// A Windows client sees a Samba share case-insensitively, so two names that
// differ only by letter case cannot both be reached. Folder refuses
// ("case-collision") a path equal to an earlier one of the share under
// Unicode simple case folding, per segment, but not byte-equal; the first
// path added keeps its name.
//
// # What it must never do
//
//   - accept a key whose path would leave the share: every accepted path is
//     local in the sense of filepath.IsLocal, and joined onto the share root
//     it stays strictly inside;
//   - accept in Key a path that LocalPath would refuse, or refuse it for a
//     different Reason: nothing is uploaded that could never come back down;
//   - rewrite a name silently, or touch the file system, the network or a
//     logger: the package is pure, and callers report refusals;
//   - put a raw control or format character into an error string: names are
//     quoted with %q.
//
// A refusal means "this name cannot be represented on the other side", never
// "this file is gone": callers must not plan a delete because a name is
// refused. If a later release refuses more names, files already in sync
// become refused, visibly, and stay where they are.
//
// # Concurrency
//
// LocalPath, Key and Check are pure functions, safe for concurrent use.
// A Folder is not: one goroutine (one reconcile pass of one share) owns it.
package keymap
