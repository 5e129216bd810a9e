// gocheck verifies a Resonance audit log directory with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog (Debian golang-golang-x-mod-dev), an implementation independent of ours. It is
// built offline by tests/integration/audit (GO111MODULE=off GOPATH=/usr/share/gocode).
//
//	gocheck keygen NAME                 print a Go-generated private key and verifier key
//	gocheck verify DIR VKEY [flags]     check checkpoint signature, tiles, every leaf, proofs
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gocheck: "+format+"\n", args...)
	os.Exit(1)
}

// dirTiles serves our C2SP tile paths (tile/<L>/<N>[.p/<W>]) to Go's tile reader, whose own
// paths carry the height (tile/8/<L>/...).
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }
func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}
func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		full := t
		full.W = 256
		data, err := os.ReadFile(filepath.Join(d.dir, strings.Replace(full.Path(), "tile/8/", "tile/", 1)))
		if err != nil {
			data, err = os.ReadFile(filepath.Join(d.dir, strings.Replace(t.Path(), "tile/8/", "tile/", 1)))
			if err != nil {
				return nil, err
			}
		}
		if len(data) < t.W*32 {
			return nil, fmt.Errorf("tile %s: %d bytes, need %d", t.Path(), len(data), t.W*32)
		}
		out[i] = data[:t.W*32]
	}
	return out, nil
}

func bundle(dir string, n int64, width int) [][]byte {
	t := tlog.Tile{H: 8, L: 0, N: n, W: 256}
	p := strings.Replace(t.Path(), "tile/8/0/", "tile/entries/", 1)
	data, err := os.ReadFile(filepath.Join(dir, p))
	if err != nil {
		t.W = width
		p = strings.Replace(t.Path(), "tile/8/0/", "tile/entries/", 1)
		if data, err = os.ReadFile(filepath.Join(dir, p)); err != nil {
			fail("entry bundle %d: %v", n, err)
		}
	}
	var out [][]byte
	for len(data) > 0 {
		l := int(binary.BigEndian.Uint16(data))
		out = append(out, data[2:2+l])
		data = data[2+l:]
	}
	return out
}

func parseCheckpoint(text string) (string, int64, tlog.Hash) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		fail("checkpoint body too short")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root: %v", err)
	}
	return lines[0], size, root
}

func openCheckpoint(path string, v note.Verifier) (*note.Note, int64, tlog.Hash) {
	msg, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open %s: %v", path, err)
	}
	origin, size, root := parseCheckpoint(n.Text)
	if origin != v.Name() {
		fail("origin %q is not the key name %q", origin, v.Name())
	}
	return n, size, root
}

// checkCosignature verifies a cosignature/v1 line (C2SP tlog-cosignature) with crypto/ed25519.
func checkCosignature(n *note.Note, vkey string) {
	parts := strings.SplitN(vkey, "+", 3)
	material, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(material) != 33 || material[0] != 0x04 {
		fail("witness key %q is not an Ed25519 cosignature key", vkey)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), material...))
	if hex.EncodeToString(h[:4]) != parts[1] {
		fail("witness key id mismatch")
	}
	for _, s := range n.UnverifiedSigs {
		if s.Name != parts[0] || s.Hash != binary.BigEndian.Uint32(h[:4]) {
			continue
		}
		raw, _ := base64.StdEncoding.DecodeString(s.Base64)
		if len(raw) != 4+8+64 {
			fail("cosignature is %d bytes", len(raw))
		}
		ts := binary.BigEndian.Uint64(raw[4:12])
		msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, n.Text)
		if !ed25519.Verify(ed25519.PublicKey(material[1:]), []byte(msg), raw[12:]) {
			fail("cosignature by %s does not verify", parts[0])
		}
		fmt.Printf("cosignature by %s at %d verifies\n", parts[0], ts)
		return
	}
	fail("no cosignature by %s", parts[0])
}

// readHashes reads base64 hashes, one per line, skipping lines that are not hashes.
func proofFromTlogProof(path string) (int64, []tlog.Hash) {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var index int64 = -1
	var hashes []tlog.Hash
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		if strings.HasPrefix(line, "index ") {
			index, _ = strconv.ParseInt(line[6:], 10, 64)
			continue
		}
		if h, err := tlog.ParseHash(line); err == nil {
			hashes = append(hashes, h)
		}
	}
	return index, hashes
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "keygen" {
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		if err != nil {
			fail("%v", err)
		}
		fmt.Println(skey)
		fmt.Println(vkey)
		return
	}
	if len(os.Args) < 4 || os.Args[1] != "verify" {
		fail("usage: gocheck keygen NAME | gocheck verify DIR VKEY [-witness VKEY] [-proof FILE]... [-old CHECKPOINT -consistency FILE]")
	}
	dir, vkey := os.Args[2], os.Args[3]
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	witness := fs.String("witness", "", "witness vkey")
	old := fs.String("old", "", "older checkpoint file")
	consistency := fs.String("consistency", "", "our consistency proof: base64 hashes, one per line")
	var proofs []string
	fs.Func("proof", "our tlog-proof file (repeatable)", func(s string) error { proofs = append(proofs, s); return nil })
	fs.Parse(os.Args[4:])

	v, err := note.NewVerifier(vkey)
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	n, size, root := openCheckpoint(filepath.Join(dir, "checkpoint"), v)
	if *witness != "" {
		checkCosignature(n, *witness)
	}
	tree := tlog.Tree{N: size, Hash: root}
	hr := tlog.TileHashReader(tree, dirTiles{dir})
	th, err := tlog.TreeHash(size, hr)
	if err != nil || th != root {
		fail("tree hash from tiles: %v (%v vs %v)", err, th, root)
	}
	// Every leaf: Go's RecordHash of the stored bytes is the hash our tiles hold.
	for i := int64(0); i < size; i += 256 {
		w := size - i
		if w > 256 {
			w = 256
		}
		entries := bundle(dir, i/256, int(w))
		if int64(len(entries)) < w {
			fail("bundle %d holds %d entries, want %d", i/256, len(entries), w)
		}
		for k := int64(0); k < w; k++ {
			got, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, i+k)})
			if err != nil {
				fail("leaf %d: %v", i+k, err)
			}
			if tlog.RecordHash(entries[k]) != got[0] {
				fail("entry %d: RecordHash differs from the tile", i+k)
			}
		}
	}
	for _, p := range proofs {
		index, ours := proofFromTlogProof(p)
		goProof, err := tlog.ProveRecord(size, index, hr)
		if err != nil {
			fail("ProveRecord %d: %v", index, err)
		}
		leaf, _ := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
		if err := tlog.CheckRecord(tlog.RecordProof(ours), size, root, index, leaf[0]); err != nil {
			fail("CheckRecord of our proof for %d: %v", index, err)
		}
		if len(goProof) != len(ours) {
			fail("proof %d: Go has %d hashes, ours %d", index, len(goProof), len(ours))
		}
		for k := range ours {
			if ours[k] != goProof[k] {
				fail("proof %d hash %d differs from Go's", index, k)
			}
		}
	}
	if *old != "" {
		_, oldSize, oldRoot := openCheckpoint(*old, v)
		goProof, err := tlog.ProveTree(size, oldSize, hr)
		if err != nil {
			fail("ProveTree: %v", err)
		}
		if err := tlog.CheckTree(goProof, size, root, oldSize, oldRoot); err != nil {
			fail("CheckTree %d -> %d: %v", oldSize, size, err)
		}
		if *consistency != "" {
			data, err := os.ReadFile(*consistency)
			if err != nil {
				fail("%v", err)
			}
			var ours tlog.TreeProof
			for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
				h, err := tlog.ParseHash(string(line))
				if err != nil {
					fail("consistency file: %v", err)
				}
				ours = append(ours, h)
			}
			if err := tlog.CheckTree(ours, size, root, oldSize, oldRoot); err != nil {
				fail("CheckTree of our consistency proof: %v", err)
			}
			if len(ours) != len(goProof) {
				fail("consistency proof: Go has %d hashes, ours %d", len(goProof), len(ours))
			}
			for k := range ours {
				if ours[k] != goProof[k] {
					fail("consistency proof hash %d differs from Go's", k)
				}
			}
		}
		fmt.Printf("consistency %d -> %d verifies\n", oldSize, size)
	}
	fmt.Printf("ok: %s size %d, %d entries and %d proofs checked with golang.org/x/mod/sumdb\n", v.Name(), size, size, len(proofs))
}
