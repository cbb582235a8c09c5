package tripwire

import "strings"

// badExtensions are extensions ransomware families append to the files
// they encrypt. The list is curated from public ransomware identification
// services, incident-response write-ups and vendor threat reports; it
// keeps extensions that are the family's fixed marker and leaves out
// those too common in honest use (".lock", which editors use for lock
// files) and families that append random or per-victim extensions, which
// only the "never seen on this share" rule can catch.
var badExtensions = map[string]string{
	".locked":    "generic",
	".encrypted": "generic",
	".crypt":     "generic",
	".crypted":   "generic",
	".crypto":    "generic",
	".enc":       "generic",
	".lockbit":   "LockBit",
	".ryk":       "Ryuk",
	".wncry":     "WannaCry",
	".wnry":      "WannaCry",
	".wcry":      "WannaCry",
	".cerber":    "Cerber",
	".cerber2":   "Cerber",
	".cerber3":   "Cerber",
	".locky":     "Locky",
	".zepto":     "Locky",
	".odin":      "Locky",
	".thor":      "Locky",
	".aesir":     "Locky",
	".osiris":    "Locky",
	".akira":     "Akira",
	".basta":     "Black Basta",
	".conti":     "Conti",
	".gdcb":      "GandCrab",
	".krab":      "GandCrab",
	".crab":      "GandCrab",
	".djvu":      "STOP/Djvu",
	".phobos":    "Phobos",
	".eking":     "Phobos",
	".devos":     "Phobos",
	".royal":     "Royal",
	".rhysida":   "Rhysida",
	".mallox":    "Mallox",
	".crysis":    "Crysis/Dharma",
	".dharma":    "Crysis/Dharma",
	".wallet":    "Crysis/Dharma",
	".cry":       "generic",
	".vvv":       "TeslaCrypt",
	".ccc":       "TeslaCrypt",
	".micro":     "TeslaCrypt",
}

// noteExtensions are the extensions ransom notes come in: text, web pages
// and HTML applications. A song called "Decrypt Me.mp3" is not a note.
var noteExtensions = map[string]bool{
	".txt": true, ".html": true, ".htm": true, ".hta": true, ".rtf": true, ".url": true,
}

// notePatterns are fragments of ransom-note names, matched against the
// lower-case base name with spaces, dashes and dots read as underscores;
// the same sources as badExtensions.
var notePatterns = []string{
	"decrypt",       // HOW_TO_DECRYPT, DECRYPT_INSTRUCTIONS, _DECRYPT_FILES
	"restore_files", // RESTORE_FILES_INFO
	"restore_my_files",
	"recover", // HOW_TO_RECOVER_FILES, RECOVERY_INSTRUCTIONS, +RECOVER+
	"ransom",
	"your_files", // YOUR_FILES_ARE_ENCRYPTED
	"files_encrypted",
	"files_are_encrypted",
	"help_restore",
	"unlock_files",
}

// SuspiciousName reports whether the share-relative name looks like
// ransomware's work, and why: an extension a ransomware family appends,
// or the name of a ransom note. It is pure and safe for concurrent use.
func SuspiciousName(name string) (reason string, ok bool) {
	if family, bad := BadExtension(name); bad {
		return "known ransomware extension " + Ext(name) + " (" + family + ")", true
	}
	if IsRansomNote(name) {
		return "ransom-note name", true
	}
	return "", false
}

// BadExtension reports whether name ends in an extension a ransomware
// family appends, and which family. Pure, safe for concurrent use.
func BadExtension(name string) (family string, ok bool) {
	family, ok = badExtensions[Ext(name)]
	return family, ok
}

// IsRansomNote reports whether the share-relative name is that of a
// ransom note: a text or web-page file named like the notes ransomware
// families drop in every folder they encrypt.
func IsRansomNote(name string) bool {
	ext := Ext(name)
	if !noteExtensions[ext] {
		return false
	}
	base := strings.ToLower(name[strings.LastIndexAny(name, `/\`)+1:])
	stem := strings.NewReplacer(" ", "_", "-", "_", ".", "_").Replace(base[:len(base)-len(ext)])
	if strings.HasSuffix(stem, "_readme") || strings.HasPrefix(stem, "how_to_") {
		return true // STOP/Djvu's _readme.txt; HOW_TO_BACK_FILES and kin
	}
	if r := strings.Index(stem, "readme"); r >= 0 && strings.Contains(stem[r:], "files") {
		return true // README_FOR_FILES, !README_RESTORE_FILES!
	}
	for _, p := range notePatterns {
		if strings.Contains(stem, p) {
			return true
		}
	}
	return false
}
