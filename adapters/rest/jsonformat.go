package rest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// jsonFormat is huma's JSON format, except that a body is encoded in full
// before it is written, with its Content-Length, in one Write. huma's
// default streams the encoder into the response, which net/http then
// sends chunked, a write(2) per 4 KB of body (four for a page of search
// results, each waking the client), and a client cannot see the size in
// advance. A body that fails to encode is not half sent either.
var jsonFormat = huma.Format{
	Marshal:   marshalJSON,
	Unmarshal: json.Unmarshal,
}

// maxPooledBody bounds the buffers kept for reuse, so that one large
// answer (an account export) does not stay in memory.
const maxPooledBody = 64 << 10

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func marshalJSON(w io.Writer, v any) error {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBody {
			bodyBuffers.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	if rw, ok := w.(http.ResponseWriter); ok {
		rw.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	}
	_, err := w.Write(buf.Bytes())
	return err
}
