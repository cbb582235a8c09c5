package objstore

import (
	"path"
	"strings"
)

// DefaultContentType is what an object whose extension is not in the
// table gets: S3's own default, said explicitly.
const DefaultContentType = "application/octet-stream"

// contentTypes maps a lower-case extension to the Content-Type an upload
// carries. Without one, servers store application/octet-stream (single
// part) or binary/octet-stream (multipart), and AzuraCast, browsers and
// CDNs that serve the bucket then refuse to play or show the file. The
// table holds what a station's share holds: audio, playlists, cue and
// artwork files, and a few text formats.
var contentTypes = map[string]string{
	// Audio.
	".mp3":  "audio/mpeg",
	".mp2":  "audio/mpeg",
	".mpga": "audio/mpeg",
	".wav":  "audio/wav",
	".bwf":  "audio/wav",
	".flac": "audio/flac",
	".ogg":  "audio/ogg",
	".oga":  "audio/ogg",
	".opus": "audio/ogg",
	".m4a":  "audio/mp4",
	".mp4a": "audio/mp4",
	".aac":  "audio/aac",
	".aif":  "audio/aiff",
	".aiff": "audio/aiff",
	".wma":  "audio/x-ms-wma",
	// Playlists and cue sheets.
	".m3u":  "audio/x-mpegurl",
	".m3u8": "application/vnd.apple.mpegurl",
	".pls":  "audio/x-scpls",
	".xspf": "application/xspf+xml",
	".cue":  "application/x-cue",
	// Artwork.
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".gif":  "image/gif",
	".webp": "image/webp",
	".svg":  "image/svg+xml",
	// Text and data.
	".txt":  "text/plain; charset=utf-8",
	".csv":  "text/csv; charset=utf-8",
	".json": "application/json",
	".xml":  "application/xml",
	".pdf":  "application/pdf",
}

// ContentType returns the Content-Type for key by its extension,
// case-insensitively, and DefaultContentType for anything else. Safe for
// concurrent use.
func ContentType(key string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(key))]; ok {
		return t
	}
	return DefaultContentType
}
