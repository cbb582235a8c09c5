package index

import bolt "go.etcd.io/bbolt"

// historyBucket holds each share's recent history for the status page's
// charts (sharehistory's saved form, opaque here), by share name.
var historyBucket = []byte("history")

// LoadHistory returns what SaveHistory last stored for share, or nil.
func (ix *Index) LoadHistory(share string) ([]byte, error) {
	var out []byte
	err := ix.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(historyBucket); b != nil {
			if v := b.Get([]byte(share)); v != nil {
				out = append([]byte(nil), v...)
			}
		}
		return nil
	})
	return out, err
}

// SaveHistory stores the share's history, replacing what was there.
func (ix *Index) SaveHistory(share string, v []byte) error {
	return ix.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(historyBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(share), v)
	})
}
