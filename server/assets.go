package server

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"
)

// assets serves the embedded static files under a content hash, so browsers
// may cache them for a year and still see every change.
type assets struct {
	files map[string]asset
}

type asset struct {
	hash  string
	body  []byte
	ctype string
}

func loadAssets(files fs.FS) (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) == ".go" {
			return err
		}
		body, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		a.files[p] = asset{hash: hex.EncodeToString(sum[:6]), body: body, ctype: ctype}
		return nil
	})
	return a, err
}

// url is the template function that links an asset by its hash.
func (a *assets) url(name string) string {
	f, ok := a.files[name]
	if !ok {
		return "/static/missing/" + name
	}
	return "/static/" + f.hash + "/" + name
}

func (s *Server) serveStatic(c *gin.Context) {
	name := c.Param("file")[1:]
	f, ok := s.assets.files[name]
	if !ok || f.hash != c.Param("hash") {
		s.fail(c, newError(http.StatusNotFound, "There is no such file.", nil))
		return
	}
	etag := `"` + f.hash + `"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, f.ctype, f.body)
}
