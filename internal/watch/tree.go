package watch

// tree is the set of directories the Watcher has asked fsnotify to watch,
// share-relative ("" is the root), with each directory's watched children so
// that a removed or renamed directory's subtree can be dropped without a scan
// of the whole set. It is only touched by the goroutine running New or Run.
type tree struct {
	dirs     map[string]struct{}
	children map[string]map[string]struct{} // parent -> watched child directories
}

func newTree() *tree {
	return &tree{
		dirs:     make(map[string]struct{}),
		children: make(map[string]map[string]struct{}),
	}
}

func (t *tree) has(rel string) bool {
	_, ok := t.dirs[rel]
	return ok
}

func (t *tree) add(rel string) {
	if t.has(rel) {
		return
	}
	t.dirs[rel] = struct{}{}
	if rel == "" {
		return
	}
	parent := parentOf(rel)
	kids := t.children[parent]
	if kids == nil {
		kids = make(map[string]struct{})
		t.children[parent] = kids
	}
	kids[rel] = struct{}{}
}

// removeSubtree drops rel and every directory below it and returns them in no
// particular order.
func (t *tree) removeSubtree(rel string) []string {
	var gone []string
	var walk func(d string)
	walk = func(d string) {
		if t.has(d) {
			delete(t.dirs, d)
			gone = append(gone, d)
		}
		for k := range t.children[d] {
			walk(k)
		}
		delete(t.children, d)
	}
	walk(rel)
	if rel != "" {
		if kids := t.children[parentOf(rel)]; kids != nil {
			delete(kids, rel)
			if len(kids) == 0 {
				delete(t.children, parentOf(rel))
			}
		}
	}
	return gone
}
