package demo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The demo's sample for the On air panel: a station ID and a playlist
// that names it as a playout PC would, by drive letter and by UNC path.
const (
	demoTrack    = "Music/Station ID.mp3"
	demoPlaylist = "Playlists/demo.m3u"
)

var demoPlaylistLines = []string{
	"#EXTM3U",
	"#EXTINF:1,GenesisSync - Station ID",
	`Z:\Music\Station ID.mp3`,
	"#EXTINF:1,GenesisSync - Station ID (by UNC path)",
	`\\GENESISSYNC\studio\Music\Station ID.mp3`,
}

// seedOnAir writes the sample track and playlist into the share, owned
// by uid and gid (-1 keeps the writer's), unless they are there already
// (a demo directory kept from an earlier run).
func seedOnAir(share string, uid, gid int) error {
	files := map[string][]byte{
		demoTrack:    silentMP3(1),
		demoPlaylist: []byte(strings.Join(demoPlaylistLines, "\r\n") + "\r\n"),
	}
	for rel, data := range files {
		p := filepath.Join(share, filepath.FromSlash(rel))
		if _, err := os.Lstat(p); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dir := filepath.Dir(p)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		for _, q := range []string{dir, p} {
			if err := os.Lchown(q, uid, gid); err != nil {
				return err
			}
		}
	}
	return nil
}

// silentMP3 is about seconds of MPEG-1 Layer III silence (128 kbit/s,
// 44.1 kHz, stereo): real frames, so that format checks see audio.
func silentMP3(seconds int) []byte {
	const frameLen = 417 // 144 * 128000 / 44100, no padding
	frames := seconds * 44100 / 1152
	out := make([]byte, 0, frames*frameLen)
	for range frames {
		frame := make([]byte, frameLen)
		copy(frame, []byte{0xFF, 0xFB, 0x90, 0x64}) // sync, MPEG-1 L3 no CRC; 128k, 44.1k; joint stereo
		out = append(out, frame...)
	}
	return out
}
