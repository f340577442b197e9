package gormdb

// HeadlineOptions are the ts_headline options of link search, for tests
// that compute snippets the slow way.
const HeadlineOptions = headlineOptions
