// Package logtest writes the request logs that tests of several packages
// read alike: one LiteLLM deployment's SpendLogs and ErrorLogs exports, so
// that the CLI, the web upload and the reader are checked on the same
// bytes.
package logtest

import (
	"fmt"
	"strings"
	"time"
)

// SpendStart is when SpendLogsCSV's requests start.
var SpendStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// SpendLogsCSV is a LiteLLM SpendLogs export: n requests of gpt-4.1-mini,
// one a minute from SpendStart plus offset minutes, with ids req-<i>
// counted from first, prompt tokens 100+i and the message "<text> <i>".
func SpendLogsCSV(offset, first, n int, text string) string {
	var b strings.Builder
	b.WriteString("request_id,call_type,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,model,model_group,messages,status\n")
	for k := range n {
		i := first + k
		ts := SpendStart.Add(time.Duration(offset+k) * time.Minute)
		fmt.Fprintf(&b, "req-%04d,acompletion,0.001,%d,%d,10,%s,%s,gpt-4.1-mini,gpt-4.1-mini,\"%s %d\",success\n",
			i, 110+i, 100+i, ts.Format("2006-01-02 15:04:05.000+00"), ts.Add(2*time.Second).Format("2006-01-02 15:04:05.000+00"), text, i)
	}
	return b.String()
}

// ErrorLogsCSV is the same deployment's LiteLLM ErrorLogs: 20 failed
// requests between SpendLogsCSV's, one every 6 minutes from 10:03 to 11:57,
// 15 rate-limited (429) and 5 server errors (500), with the exception
// string "<text> said no <i>".
func ErrorLogsCSV(text string) string {
	var b strings.Builder
	b.WriteString("request_id,startTime,endTime,api_base,model_group,litellm_model_name,model_id,request_kwargs,exception_type,exception_string,status_code\n")
	for i := range 20 {
		ts := SpendStart.Add(3*time.Minute + time.Duration(6*i)*time.Minute)
		status, kind := 429, "RateLimitError"
		if i%4 == 3 {
			status, kind = 500, "InternalServerError"
		}
		fmt.Fprintf(&b, "err-%d,%s,%s,https://api.openai.com,gpt-4.1-mini,gpt-4.1-mini,m1,{},%s,\"%s said no %d\",%d\n",
			i, ts.Format("2006-01-02 15:04:05+00"), ts.Add(time.Second).Format("2006-01-02 15:04:05+00"), kind, text, i, status)
	}
	return b.String()
}
