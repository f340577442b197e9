package rest

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"
)

// serveSpec serves the generated OpenAPI 3.1 document and its 3.0.3
// downgrade. Each is rendered once, on first request, after every route has
// been registered.
func serveSpec(engine *gin.Engine, doc *huma.OpenAPI) {
	render := func(f func() ([]byte, error)) gin.HandlerFunc {
		var once sync.Once
		var body []byte
		var err error
		return func(c *gin.Context) {
			once.Do(func() { body, err = f() })
			if err != nil {
				Logger(c.Request.Context()).Error("render OpenAPI document", "error", err)
				abortWithProblem(c, NewProblem(http.StatusInternalServerError, "internal_error", ""))
				return
			}
			c.Header("Cache-Control", "no-cache")
			c.Data(http.StatusOK, "application/json", body)
		}
	}
	engine.GET("/openapi.json", render(func() ([]byte, error) { return json.Marshal(doc) }))
	engine.GET("/openapi-3.0.json", render(doc.Downgrade))
}
