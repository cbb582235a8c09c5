package tripwire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSuspiciousName(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string // "" means not suspicious
	}{
		{"Music/Track 01.mp3.locked", "known ransomware extension .locked (generic)"},
		{"Music/Track 01.mp3.LOCKBIT", "known ransomware extension .lockbit (LockBit)"},
		{`Music\Track.mp3.id[1E857D00-3483].[mail@example.com].akira`, "known ransomware extension .akira (Akira)"},
		{"Jingles/id.wav.wncry", "known ransomware extension .wncry (WannaCry)"},
		{"Music/HOW_TO_DECRYPT.txt", "ransom-note name"},
		{"Music/DECRYPT-FILES.html", "ransom-note name"},
		{"Music/Restore-My-Files.txt", "ransom-note name"},
		{"Music/RESTORE_FILES_INFO.hta", "ransom-note name"},
		{"Music/!README_FOR_FILES!.txt", "ransom-note name"},
		{"Music/HOW_TO_BACK_FILES.html", "ransom-note name"},
		{"Music/+RECOVER+FILES.txt", "ransom-note name"},
		{"Music/_readme.txt", "ransom-note name"},
		{"Music/YOUR FILES ARE ENCRYPTED.TXT", "ransom-note name"},
		{"Music/Decrypt Me.mp3", ""},
		{"Music/README.txt", ""},
		{"Music/Track 01.mp3", ""},
		{"Music/recovered.wav", ""},
		{"Music/.~lock.schedule.ods#", ""},
		{"Music/schedule.lock", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason, ok := SuspiciousName(tc.name)
			require.Equal(t, tc.reason != "", ok, reason)
			require.Equal(t, tc.reason, reason)
		})
	}
}
