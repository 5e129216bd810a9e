// gopeer is the same-run peer of scripts/bench audit: Go's golang.org/x/mod/sumdb/tlog (the Go
// checksum database's Merkle log, Debian golang-golang-x-mod-dev) doing the work audit_bench
// times, on the same data, in memory:
//  1. append with hashing: the same entry bodies, each hashed as an RFC 6962 leaf and folded into
//     the stored hashes (tlog.StoredHashes); no journal, no fsync;
//  2. inclusion proofs (tlog.ProveRecord, each checked with tlog.CheckRecord) in a tree whose leaf
//     i is the leaf hash of the 8-byte little-endian index, exactly the synthetic tree of
//     audit_bench.
//
// Built offline (GO111MODULE=off GOPATH=/usr/share/gocode) by bench/audit/run.sh. Prints one
// JSON object.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

type store struct{ hashes []tlog.Hash }

func (s *store) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(s.hashes)) {
			return nil, fmt.Errorf("hash %d not stored (have %d)", x, len(s.hashes))
		}
		out[i] = s.hashes[x]
	}
	return out, nil
}

func percentiles(us []float64) map[string]float64 {
	sort.Float64s(us)
	sum := 0.0
	for _, x := range us {
		sum += x
	}
	return map[string]float64{"mean": sum / float64(len(us)), "p50": us[len(us)/2], "p99": us[len(us)*99/100], "max": us[len(us)-1]}
}

func main() {
	entries := flag.Int64("entries", 1000000, "entries appended with hashing")
	proofLeaves := flag.Int64("proof-leaves", 100000000, "leaves of the synthetic tree for the proof timing")
	proofs := flag.Int("proofs", 20000, "inclusion proofs timed")
	flag.Parse()
	out := map[string]interface{}{"engine": "go-sumdb-tlog", "go": runtime.Version()}

	// 1. Append with hashing; the bodies are formatted outside the timed part, as in audit_bench.
	{
		s := &store{hashes: make([]tlog.Hash, 0, tlog.StoredHashCount(*entries))}
		const batch = 4096
		bodies := make([][]byte, batch)
		var elapsed time.Duration
		for done := int64(0); done < *entries; done += batch {
			n := int64(batch)
			if *entries-done < n {
				n = *entries - done
			}
			for i := int64(0); i < n; i++ {
				k := uint64(done + i)
				bodies[i] = []byte(fmt.Sprintf("{\"series\":\"line2/press-07/vib\",\"n\":512,\"seq\":%d,\"digest\":\"sha256:%016x\"}", k, k*0x9e3779b97f4a7c15))
			}
			t0 := time.Now()
			for i := int64(0); i < n; i++ {
				h, err := tlog.StoredHashes(done+i, bodies[i], s)
				if err != nil {
					fmt.Fprintln(os.Stderr, "gopeer:", err)
					os.Exit(1)
				}
				s.hashes = append(s.hashes, h...)
			}
			elapsed += time.Since(t0)
		}
		out["append_entries"] = *entries
		out["append_entries_per_s"] = float64(*entries) / elapsed.Seconds()
	}

	// 2. Proofs in the synthetic tree.
	if *proofLeaves > 0 {
		s := &store{hashes: make([]tlog.Hash, 0, tlog.StoredHashCount(*proofLeaves))}
		t0 := time.Now()
		var le [8]byte
		for i := int64(0); i < *proofLeaves; i++ {
			binary.LittleEndian.PutUint64(le[:], uint64(i))
			h, err := tlog.StoredHashesForRecordHash(i, tlog.RecordHash(le[:]), s)
			if err != nil {
				fmt.Fprintln(os.Stderr, "gopeer:", err)
				os.Exit(1)
			}
			s.hashes = append(s.hashes, h...)
		}
		out["synthetic_build_s"] = time.Since(t0).Seconds()
		root, err := tlog.TreeHash(*proofLeaves, s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gopeer:", err)
			os.Exit(1)
		}
		out["root"] = root.String()
		rng := rand.New(rand.NewSource(11))
		us := make([]float64, 0, *proofs)
		for i := 0; i < *proofs; i++ {
			index := rng.Int63n(*proofLeaves)
			t := time.Now()
			p, err := tlog.ProveRecord(*proofLeaves, index, s)
			us = append(us, float64(time.Since(t).Nanoseconds())/1000)
			binary.LittleEndian.PutUint64(le[:], uint64(index))
			if err == nil {
				err = tlog.CheckRecord(p, *proofLeaves, root, index, tlog.RecordHash(le[:]))
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "gopeer: proof", index, err)
				os.Exit(1)
			}
		}
		out["proof_leaves"] = *proofLeaves
		out["proof_us"] = percentiles(us)
	}
	enc, _ := json.Marshal(out)
	fmt.Println(string(enc))
}
