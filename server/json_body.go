package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"gatewise/simulator"
)

// decodeJSONBody reads an API request's JSON body into v, refusing fields
// v does not have. Its errors speak of the JSON a client sent (the field by
// its JSON name and what it must be, or the line and column of bad
// syntax), never of Go's types. They answer 400, as a body that cannot
// be read; a body read whole whose values are wrong answers 422 later.
func decodeJSONBody(c *gin.Context, v any) error {
	data, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return formReadError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonBodyError(data, err)
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
		line, col := simulator.LineColumn(data, len(data)-len(rest))
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("The body must be one JSON object; more follows at line %d, column %d.", line, col)}
	}
	return nil
}

func jsonBodyError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	bad := func(msg string) error { return &Error{Status: http.StatusBadRequest, Message: msg, Err: err} }
	switch {
	case errors.Is(err, io.EOF):
		return bad("The body is empty; send a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad("The body's JSON ends before it is complete.")
	case errors.As(err, &syn):
		line, col := simulator.LineColumn(data, max(int(syn.Offset)-1, 0))
		return bad(fmt.Sprintf("The body is not valid JSON at line %d, column %d: %s.", line, col, strings.TrimPrefix(syn.Error(), "json: ")))
	case errors.As(err, &typ):
		field := jsonFieldPath(typ.Field)
		if field == "" {
			return bad(fmt.Sprintf("The body must be a JSON object, not %s.", typ.Value))
		}
		want := expectedJSON(typ.Type)
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("%s must be %s, not %s.", field, want, typ.Value), Err: err,
			Fields: map[string]string{field: "must be " + want}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("The body has a field %q that this request does not take.", field), Err: err,
			Fields: map[string]string{field: "is not a field of this request"}}
	}
	return bad("The body must be a JSON object.")
}

// jsonFieldPath keeps the JSON names of a decoder's field path: Go's
// names of embedded structs (capitalised) are dropped.
func jsonFieldPath(path string) string {
	var keep []string
	for _, p := range strings.Split(path, ".") {
		if p != "" && !unicode.IsUpper([]rune(p)[0]) {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ".")
}

// expectedJSON says in JSON's words what a Go type accepts.
func expectedJSON(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a JSON value"
}
