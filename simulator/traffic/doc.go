// Package traffic turns what a team's stack already records into the demand
// gatewise simulates: a Profile of requests, input, cached-input and output
// tokens, errors by class and latencies per time bin × route × origin.
//
// Read streams a request log (CSV, JSON array or JSON Lines, optionally
// gzip-compressed) from any of the known exports (LiteLLM, Helicone,
// OpenRouter, Portkey, Cloudflare, OpenAI and Anthropic usage, the Azure and
// BurstGPT traces) or through a column Mapping, and reports what it did in a
// Summary. Synthesize builds the same Profile from the few numbers of an
// architecture's traffic block when there is no log.
//
// Prompt and completion text is never kept: a row contributes counts, a
// time, a model name and the metadata value its route rule reads.
//
// A log is an upload, so what it can cost is bounded whatever it holds. A
// row longer than MaxLineBytes or of more than 10,000 fields, JSON nested
// more than 512 deep, a NUL byte or text that is not UTF-8 is skipped as a
// bad row, or refuses the file where reading cannot go on past it (a CSV
// header, a JSON document) or where it shows the file is not text (the
// first 64 KiB). Gzip that expands more than MaxGzipRatio times is refused.
// Messages name the line where there is one.
//
// Every row of a file is counted, used or skipped, or the file is refused:
// a CSV row ends at a line feed outside quotes, so a quoted field that
// opens and never closes would make the rest of the file one field, and
// Read refuses the file at the line and column where that quote opens.
//
// Reading keeps the common rows cheap: a good row of plain values (an ISO
// time, digits) is read straight from its bytes by a fast path
// (fastrow.go), CSV chunks without quotes are split a word at a time, a
// JSON row with the keys of the row before in the same places is read by
// that row's shape, and other JSON keys in the order of the row before are
// matched in place. Anything a fast path is unsure of is read by the
// general path, which is the reference the fast paths are tested against
// (TestFastRowIsRow, TestKeyMemoIsLookup, TestShapeIsWalk,
// FuzzFastIsGeneral, TestReadGolden).
//
// The package sits below gatewise/simulator and takes plain parameters, so
// it never imports the Spec (nor net/http, gin or gorm).
package traffic
