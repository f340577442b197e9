package rest

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// docsCSP loosens the API's policy for the reference page only: it loads
// Stoplight Elements from unpkg and reads /openapi.json from this origin.
const docsCSP = "default-src 'none'; script-src https://unpkg.com; style-src https://unpkg.com 'unsafe-inline'; " +
	"img-src 'self' data: https:; font-src https://unpkg.com data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lenticular API reference</title>
<link rel="stylesheet" href="https://unpkg.com/@stoplight/elements@8.5.2/styles.min.css">
<script src="https://unpkg.com/@stoplight/elements@8.5.2/web-components.min.js"></script>
</head>
<body style="height:100vh;margin:0">
<elements-api apiDescriptionUrl="/openapi.json" router="hash" layout="sidebar" tryItCredentialsPolicy="same-origin"></elements-api>
</body>
</html>
`

func serveDocs(c *gin.Context) {
	c.Header("Content-Security-Policy", docsCSP)
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsPage))
}
