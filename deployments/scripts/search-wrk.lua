-- wrk script of search-bench.sh: GET requests over a rotating list of
-- queries for SEARCH_ENDPOINT ("users": 3-letter typeahead, "links": one
-- word), the same lists on every run.
local endpoints = {
  users = {
    path = "/v1/search/users?limit=10&q=",
    queries = {"mar", "jos", "ali", "ann", "kim", "lee", "sof", "dub", "nak", "gar",
               "pet", "ivo", "hop", "tur", "zoe", "ols", "lar", "ros", "sil", "wan"},
  },
  links = {
    path = "/v1/search/links?limit=20&q=",
    queries = {"postgresql", "caching", "tuning", "latency", "kubernetes",
               "guitars", "sourdough", "replication", "observability", "typography"},
  },
}
local e = endpoints[os.getenv("SEARCH_ENDPOINT") or "links"]
local i = 0

request = function()
  i = i + 1
  return wrk.format("GET", e.path .. e.queries[(i % #e.queries) + 1])
end
